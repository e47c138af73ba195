// Fixed-width bit packing of UInt32 values, least significant bit first, as the
// postings blocks store document-id gaps and term frequencies.

public enum BitPacking {
    /// Bits needed for the largest value: 0 when every value is 0.
    @inlinable
    public static func bitWidth(ofMaximum maximum: UInt32) -> Int {
        maximum == 0 ? 0 : 32 - maximum.leadingZeroBitCount
    }

    @inlinable
    public static func packedByteCount(count: Int, bitWidth: Int) -> Int {
        (count * bitWidth + 7) / 8
    }

    /// Appends `values`, each in `bitWidth` bits (0...32), to `bytes`.
    public static func pack(_ values: UnsafeBufferPointer<UInt32>, bitWidth: Int, into bytes: inout [UInt8]) {
        precondition((0...32).contains(bitWidth), "bit width \(bitWidth) is outside 0...32")
        guard bitWidth > 0 else { return }
        var accumulator: UInt64 = 0
        var accumulatedBits = 0
        for value in values {
            accumulator |= UInt64(value) << UInt64(accumulatedBits)
            accumulatedBits += bitWidth
            while accumulatedBits >= 8 {
                bytes.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator >>= 8
                accumulatedBits -= 8
            }
        }
        if accumulatedBits > 0 { bytes.append(UInt8(truncatingIfNeeded: accumulator)) }
    }

    /// The value at `index` of those `unpack` reads, alone: one unaligned 64-bit load from the
    /// value's first byte, so up to 8 bytes past the packed ones (at width 0, where there are
    /// none) must be readable: a segment's padding (`SegmentFormat.trailingPadding`) is 8 bytes.
    @inlinable
    public static func value(at index: Int, in source: UnsafeRawPointer, bitWidth: Int) -> UInt32 {
        let bit = index &* bitWidth
        let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: bit &>> 3, as: UInt64.self))
        return UInt32(truncatingIfNeeded: (word &>> UInt64(bit & 7)) & ((UInt64(1) &<< UInt64(bitWidth)) &- 1))
    }

    /// Reads `count` values of `bitWidth` bits. Each value is one unaligned 64-bit load
    /// (a value of up to 32 bits starts within the first byte), so the 7 bytes after the
    /// packed ones must be readable: a segment ends with that much padding.
    @inlinable
    public static func unpack(_ source: UnsafeRawPointer, count: Int, bitWidth: Int,
                              into destination: UnsafeMutablePointer<UInt32>) {
        guard bitWidth > 0 else {
            destination.update(repeating: 0, count: count)
            return
        }
        let mask = (UInt64(1) << UInt64(bitWidth)) &- 1
        var bit = 0
        for index in 0..<count {
            let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: bit &>> 3, as: UInt64.self))
            destination[index] = UInt32(truncatingIfNeeded: (word &>> UInt64(bit & 7)) & mask)
            bit &+= bitWidth
        }
    }
}

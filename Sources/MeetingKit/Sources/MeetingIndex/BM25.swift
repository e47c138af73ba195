import Foundation

/// Okapi BM25 as Lucene computes it (without the constant (k1 + 1) factor, which
/// changes no ranking):
///
///     score(doc) = Σ over query terms t in doc of  weight(t) * (tf / (tf + k1 * (1 - b + b * length / averageLength)))
///     weight(t)  = boost(t) * idf(t)
///     idf(t)     = ln(1 + (N - df + 0.5) / (df + 0.5))
///
/// with k1 = 1.2 and b = 0.75; tf is the term's frequency in the document, length the
/// document's exact length in tokens as the writer was given it, N the number of
/// documents in the segment and df the number holding the term. The sum runs in the
/// order the query lists its terms, in Double: the pruned and exhaustive paths then give
/// bit-identical scores, so equal scores are really equal and ties break by one rule.
public struct BM25: Sendable {
    public static let k1 = 1.2
    public static let b = 0.75

    public let averageLength: Double

    /// An empty segment, or one of empty documents, has an average length of 1.
    public init(totalTokens: UInt64, documentCount: Int) {
        averageLength = documentCount == 0 || totalTokens == 0 ? 1 : Double(totalTokens) / Double(documentCount)
    }

    public static func idf(documentFrequency: Int, documentCount: Int) -> Double {
        let df = Double(documentFrequency)
        return log(1 + (Double(documentCount) - df + 0.5) / (df + 0.5))
    }

    /// The part of a term's score that depends on the document; it grows with tf and falls with length.
    @inlinable
    public func saturation(frequency: UInt32, length: UInt32) -> Double {
        let tf = Double(frequency)
        return tf / (tf + BM25.k1 * (1 - BM25.b + BM25.b * Double(length) / averageLength))
    }

    /// A bound on the saturation of every posting that (frequency, length) beat when a
    /// segment with average length `chosenWith` chose it as its most saturated, valid for
    /// this (the whole index's) average. Saturation is 1 / (1 + k1 × ((1 - b) / tf + b × length / (average × tf)));
    /// every other posting has (1 - b) / tf + b × length / (chosenWith × tf) at least the
    /// chosen pair's M, so under this average its term is at least min(1, chosenWith / average) × M.
    /// With the segment's own average this is the pair's saturation.
    @inlinable
    public func saturationBound(frequency: UInt32, length: UInt32, chosenWith segmentAverage: Double) -> Double {
        if segmentAverage == averageLength { return saturation(frequency: frequency, length: length) }
        let tf = Double(frequency)
        let least = (1 - BM25.b) / tf + BM25.b * Double(length) / (segmentAverage * tf)
        return 1 / (1 + BM25.k1 * min(1, segmentAverage / averageLength) * least)
    }
}

// Lookups in the term dictionaries of a segment set for typo correction and completion:
// the terms near a word (a Levenshtein automaton run along each segment's sorted terms)
// and the words starting with a prefix, read in place from the segments every worker shares.

extension SegmentReader: SortedTermDictionary {
    public func termScalars(at index: Int) -> [Unicode.Scalar] {
        Array(term(at: index).unicodeScalars)
    }

    public func firstTermIndex(notBefore scalars: [Unicode.Scalar]) -> Int {
        var text = String(String.UnicodeScalarView(scalars))
        return text.withUTF8 { wanted in
            let wanted = UnsafeRawBufferPointer(wanted)
            var low = 0, high = termCount
            while low < high {
                let middle = (low + high) / 2
                if Self.compare(termBytes(at: middle), wanted) < 0 { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }
}

extension SegmentSet {
    /// The terms of any segment that `automaton` accepts (among those starting with
    /// `prefix`), with their distances from its word.
    public func terms(matching automaton: LevenshteinAutomaton, startingWith prefix: String = "") -> [String: Int] {
        var found: [String: Int] = [:]
        for part in parts {
            for match in automaton.matches(in: part.reader, startingWith: Array(prefix.unicodeScalars)) {
                found[part.reader.term(at: match.index)] = match.distance
            }
        }
        return found
    }

    /// Up to `limit` words beginning with `prefix` (folded as the analyzer folds words)
    /// whose terms live documents hold, those whose terms have the most postings first,
    /// then in byte order. Postings are counted as stored, so a turn deleted since its
    /// segment was written counts until a merge rewrites the segment.
    public func completions(of prefix: String, limit: Int) -> [String] {
        var termOfWord: [String: String] = [:]
        var postings: [String: Int] = [:]
        for part in parts {
            var covered = Set<Int>()
            part.reader.forEachWord(startingWith: prefix) { word, index in
                let term = part.reader.term(at: index)
                termOfWord[String(decoding: word, as: UTF8.self)] = term
                if covered.insert(index).inserted { postings[term, default: 0] += part.reader.termInfo(at: index).documentFrequency }
            }
        }
        let ranked = termOfWord.sorted { a, b in
            let (left, right) = (postings[a.value] ?? 0, postings[b.value] ?? 0)
            return left != right ? left > right : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
        }
        var live: [String: Bool] = [:]
        var result: [String] = []
        for (word, term) in ranked where result.count < limit {
            if live[term] == nil { live[term] = firstDocument(holding: term) != nil }
            if live[term] == true { result.append(word) }
        }
        return result
    }

    /// The lowest id of a live document holding `term`, if any.
    public func firstDocument(holding term: String) -> UInt32? {
        documents(holding: term, limit: 1).first
    }

    /// The ids of the first `limit` live documents holding `term`, ascending.
    public func documents(holding term: String, limit: Int) -> [UInt32] {
        var found: [UInt32] = []
        for part in parts {
            guard let info = part.reader.lookup(term) else { continue }
            let cursor = part.reader.postings(info)
            var deleted = part.deletedOrdinals[...]
            var taken = 0
            var ordinal = cursor.next()
            // Ids ascend with ordinals within a segment: its first live postings are its lowest.
            while ordinal != PostingsCursor.exhausted && taken < limit {
                while let first = deleted.first, first < ordinal { deleted = deleted.dropFirst() }
                if deleted.first != ordinal {
                    found.append(part.reader.documentID(ordinal: Int(ordinal)))
                    taken += 1
                }
                ordinal = cursor.next()
            }
        }
        return Array(found.sorted().prefix(limit))
    }
}

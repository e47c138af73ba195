// An exact phrase walked lazily, as Lucene's and tantivy's phrase scorers walk it: its
// cursor finds matches a block at a time, only in the blocks a query decodes, so that
// pruning skips a phrase's blocks unread and an excluded phrase is only checked at the
// documents it could exclude. Its blocks and block maxima are its rarest word's: a
// phrase starts at most as often as that word occurs in a document, so the word's best
// saturation in a block bounds the phrase's there. For the same reason a scored phrase
// reads a candidate's positions only when its least frequent word's count there, as the
// phrase's, could let the document enter the top k.

/// Finds a phrase's matches for a `PostingsCursor` (see `SegmentReader.phraseCursor`).
final class PhraseSource {
    /// The phrase's distinct words' cursors; `lead` (the rarest) drives, the others are
    /// leapfrogged to its documents, rarest first.
    let cursors: [PostingsCursor]
    private let lead: PostingsCursor
    private let others: [PostingsCursor]
    private let mask: DocumentMask?

    /// What a scored phrase needs to leave out candidates that cannot enter the top k.
    struct Competition {
        let weight: Double
        let bm25: BM25
        /// A bound on what the query's other terms can add to a document's score.
        let otherTermsBound: Double
        let segment: SegmentReader
        let threshold: EntryThreshold

        /// Whether the document `ordinal` cannot enter even if the phrase started at each of
        /// `frequency` positions (leaving it out then makes the count a lower bound).
        func cannotEnter(_ ordinal: UInt32, frequency: UInt32) -> Bool {
            let threshold = threshold.value
            guard threshold > -.infinity else { return false }
            let length = segment.documentLength(ordinal: Int(ordinal))
            guard (weight * bm25.saturation(frequency: frequency, length: length) + otherTermsBound) * boundSlack <= threshold else {
                return false
            }
            self.threshold.phraseSkippedAny = true
            return true
        }
    }
    /// Set for a phrase the query scores (an excluded one is checked exactly).
    @exclusivity(unchecked) var competition: Competition?
    /// Each cursor's positions in the current document (list i is `cursors[i]`'s).
    private let positions: PhrasePositions

    /// `slotOfWord`: for each word of the phrase, its cursor's index in `cursors`.
    init(cursors: [PostingsCursor], slotOfWord: [Int], mask: DocumentMask?) {
        self.cursors = cursors
        let byRarity = cursors.sorted { $0.documentFrequency < $1.documentFrequency }
        lead = byRarity[0]
        others = Array(byRarity.dropFirst())
        self.mask = mask
        positions = PhrasePositions(slotOfWord: slotOfWord)
    }

    /// The lead is done (no postings left, or none the filter admits): no later block can match.
    var isExhausted: Bool { lead.doc == PostingsCursor.exhausted }

    /// Writes the documents from `first` through `last` that `mask` admits and that hold the
    /// phrase, in ordinal order, with the phrase's frequency minus one (as blocks store it);
    /// returns how many. Calls must move forward.
    func matches(from first: UInt32, through last: UInt32,
                 ordinals: UnsafeMutablePointer<UInt32>, frequencies: UnsafeMutablePointer<UInt32>) -> Int {
        var count = 0
        var candidate = lead.advance(to: first)
        candidates: while candidate <= last {
            if let mask, !mask.admits(candidate) {
                // Straight to the filter's next document, unread by the other words (a speaker's
                // filter admits a few of a common phrase's candidates); none left exhausts the lead.
                candidate = lead.advance(to: mask.firstAllowed(atOrAfter: candidate + 1) ?? PostingsCursor.exhausted)
                continue
            }
            for other in others {
                let found = other.advance(to: candidate)
                if found != candidate {
                    // `exhausted` exhausts the lead too, which ends every later call at once.
                    candidate = lead.advance(to: found)
                    continue candidates
                }
            }
            if competition?.cannotEnter(candidate, frequency: leastWordFrequency()) == true {
                // What leaving it out unread relies on (checked in debug builds: the tests' random queries).
                assert(phraseFrequency(stoppingAtFirst: false) <= leastWordFrequency(), "a phrase starts more often than one of its words occurs")
            } else {
                let frequency = phraseFrequency(stoppingAtFirst: false)
                if frequency > 0 {
                    ordinals[count] = candidate
                    frequencies[count] = frequency - 1
                    count += 1
                }
            }
            candidate = lead.next()
        }
        return count
    }

    /// Whether the document `ordinal` holds the phrase (whatever the mask), reading its
    /// positions only if it holds every word; later calls must not ask of a lower ordinal.
    func holds(_ ordinal: UInt32) -> Bool {
        guard lead.advance(to: ordinal) == ordinal else { return false }
        for other in others where other.advance(to: ordinal) != ordinal { return false }
        return phraseFrequency(stoppingAtFirst: true) > 0
    }

    /// The fewest times one of the phrase's words occurs in the document every cursor is on:
    /// a bound on the phrase's frequency there.
    private func leastWordFrequency() -> UInt32 {
        var least = UInt32.max
        for cursor in cursors { least = min(least, cursor.frequency) }
        return least
    }

    /// How many positions the phrase starts at in the document every cursor is on, or 1 at
    /// the first when `stoppingAtFirst` (see `PhrasePositions.phraseStarts`).
    private func phraseFrequency(stoppingAtFirst: Bool) -> UInt32 {
        for list in cursors.indices { positions.read(list, from: cursors[list]) }
        return positions.phraseStarts(stoppingAtFirst: stoppingAtFirst)
    }
}

/// The positions of a phrase's words in one document, a list per distinct word, and how
/// many positions the phrase starts at there: the one count of plain phrases
/// (`PhraseSource`) and of phrases ending in a prefix (`SegmentReader.phraseMatches`).
/// The lists' buffers are reused from document to document: no allocation per candidate.
final class PhrasePositions {
    /// For each word of the phrase, the list of its positions.
    private let slotOfWord: [Int]
    // One query on one thread uses them, so they are exempt from dynamic exclusivity
    // checks (a sixth of a phrase's time).
    @exclusivity(unchecked) private var lists: [UnsafeMutableBufferPointer<UInt32>]
    @exclusivity(unchecked) private var counts: [Int]
    /// For each word of the phrase, how far its positions have been searched.
    private let searched: UnsafeMutablePointer<Int>

    init(slotOfWord: [Int]) {
        self.slotOfWord = slotOfWord
        let listCount = slotOfWord.max()! + 1
        lists = (0..<listCount).map { _ in .allocate(capacity: 16) }
        counts = [Int](repeating: 0, count: listCount)
        searched = .allocate(capacity: slotOfWord.count)
    }

    deinit {
        for list in lists { list.deallocate() }
        searched.deallocate()
    }

    /// Reads the positions of the posting `cursor` is on as list `list`.
    func read(_ list: Int, from cursor: PostingsCursor) {
        let needed = Int(cursor.frequency)
        if needed > lists[list].count {
            let capacity = max(needed, 2 * lists[list].count)
            lists[list].deallocate()
            lists[list] = .allocate(capacity: capacity)
        }
        counts[list] = cursor.positions(writingTo: lists[list])
    }

    /// How many positions the phrase starts at in the lists as last read (overlaps count:
    /// "no no" is twice in "no no no"), or 1 at the first when `stoppingAtFirst`; the phrase
    /// of its first `wordCount` words when given (only their lists need be read). The word
    /// with the fewest positions proposes the starts; each other word's positions are
    /// searched forward from where the previous start left them, so each list is walked
    /// once and nothing is copied.
    func phraseStarts(stoppingAtFirst: Bool, ofFirst wordCount: Int? = nil) -> UInt32 {
        let words = 0..<(wordCount ?? slotOfWord.count)
        var leadOffset = 0
        for offset in words where counts[slotOfWord[offset]] < counts[slotOfWord[leadOffset]] {
            leadOffset = offset
        }
        for offset in words { searched[offset] = 0 }
        let leadPositions = lists[slotOfWord[leadOffset]]
        var found: UInt32 = 0
        starts: for index in 0..<counts[slotOfWord[leadOffset]] {
            let position = leadPositions[index]
            guard position >= UInt32(leadOffset) else { continue }
            let start = position - UInt32(leadOffset)
            for offset in words where offset != leadOffset {
                let slot = slotOfWord[offset], wanted = start &+ UInt32(offset)
                let list = lists[slot], count = counts[slot]
                var at = searched[offset]
                while at < count && list[at] < wanted { at &+= 1 }
                searched[offset] = at
                // Later starts want later positions: none is left for them either.
                if at == count { break starts }
                if list[at] != wanted { continue starts }
            }
            found &+= 1
            if stoppingAtFirst { break }
        }
        return found
    }
}

extension PostingsCursor {
    /// Whether the document `ordinal` holds the cursor's term or phrase: what an exclusion
    /// asks. A phrase is checked at that document alone rather than searched for its next
    /// match. Later calls must not ask of a lower ordinal.
    func holds(_ ordinal: UInt32) -> Bool {
        if let phrase { return phrase.holds(ordinal) }
        return advance(to: ordinal) == ordinal
    }
}

extension SegmentReader {
    /// A cursor over the live documents `mask` admits that hold `words` at consecutive
    /// positions, with the phrase's frequency as each one's; nil when a word is not in the
    /// segment. Its block maxima and `documentFrequency` are its rarest word's: bounds.
    /// The pair is the rarest word's max-score posting, a bound on the phrase's.
    func phraseCursor(_ words: [String], mask: DocumentMask?) -> (cursor: PostingsCursor, maxScorePair: (frequency: UInt32, length: UInt32))? {
        precondition(words.count > 1, "a phrase has two words or more")
        var distinct: [String] = []
        for word in words where !distinct.contains(word) { distinct.append(word) }
        var infos: [TermInfo] = []
        for word in distinct {
            guard let info = lookup(word) else { return nil }
            infos.append(info)
        }
        return phraseCursor(infos, slotOfWord: words.map { distinct.firstIndex(of: $0)! }, mask: mask)
    }

    /// The cursor of a phrase whose distinct words are the dictionary entries `infos`, each
    /// word of it being `infos[slotOfWord[i]]`, as `phraseCursor(_:mask:)` makes it.
    func phraseCursor(_ infos: [TermInfo], slotOfWord: [Int], mask: DocumentMask?) -> (cursor: PostingsCursor, maxScorePair: (frequency: UInt32, length: UInt32)) {
        let rarest = infos.min { $0.documentFrequency < $1.documentFrequency }!
        let source = PhraseSource(cursors: infos.map(postings), slotOfWord: slotOfWord, mask: mask)
        let cursor = PostingsCursor(postings: base + rarest.postingsOffset, positions: base + rarest.positionsOffset,
                                    documentFrequency: rarest.documentFrequency, phrase: source)
        return (cursor, (rarest.maxScoreFrequency, rarest.maxScoreLength))
    }
}

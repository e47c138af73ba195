// Queries written as requests ("Summarize the discussion about X", "What did Y think
// about Z?") are what users really type; the words of the request itself are not what
// they look for. Such a query is read as the topic words it carries, any of which may
// match, ranked together.

enum RequestPhrasing {
    /// Words that open a question or a request.
    static let openers: Set<String> = [
        "what", "whats", "why", "how", "who", "whom", "whose", "when", "where", "which", "summarize", "summarise",
        "describe", "explain", "tell", "list", "give", "show", "find", "please", "did", "does", "do", "was", "were",
        "is", "are", "can", "could", "should", "would", "will", "has", "have", "had",
    ]

    /// Grammar words: they carry no topic.
    static let stopWords: Set<String> = [
        "a", "an", "the", "and", "or", "but", "if", "then", "than", "so", "as", "of", "at", "by", "for", "with",
        "about", "against", "between", "into", "through", "during", "before", "after", "above", "below", "to",
        "from", "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "once", "here",
        "there", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not",
        "only", "own", "same", "too", "very", "s", "t", "d", "ll", "m", "re", "ve", "can", "will", "just",
        "should", "now", "i", "me", "my", "we", "our", "ours", "you", "your", "he", "him", "his", "she", "her",
        "it", "its", "they", "them", "their", "this", "that", "these", "those", "am", "is", "are", "was", "were",
        "be", "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "would", "could",
        "what", "whats", "which", "who", "whom", "whose", "why", "how", "when", "where", "while", "also", "towards",
        "toward", "upon", "within", "without", "among", "via", "per", "whether", "there", "yes", "yeah", "okay",
        "oh", "um", "uh", "well", "like", "really", "get", "got", "one", "us",
    ]

    /// Words that frame the request ("summarize the discussion about", "what did the group
    /// say"). Verbs of stance ("think", "agree", "decide") are kept: on the QMSum validation
    /// queries they find the turns where opinions and decisions are voiced.
    static let requestWords: Set<String> = [
        "summarize", "summarise", "summary", "discussion", "discussions", "discuss", "discussed", "discussing",
        "talk", "talked", "talking", "please", "describe", "explain", "tell", "elaborate", "elaborated", "meeting", "meetings",
        "group", "members", "member", "team", "presentation", "presentations", "presenting", "presented", "say",
        "said", "says", "mention", "mentioned", "regarding", "concerning", "according",
    ]

    /// Whether the query reads as a question or request rather than keywords.
    static func isRequest(_ query: String, parsed: ParsedQuery) -> Bool {
        guard !parsed.usesOperators, parsed.terms.count >= 3, let first = parsed.terms.first?.tokens.first else { return false }
        return openers.contains(first) || query.last(where: { !$0.isWhitespace }) == "?"
    }

    /// Whether two words are one word in another form ("designer", "design"): equal,
    /// or sharing their first five letters.
    static func sameWord(_ a: String, _ b: String) -> Bool {
        a == b || (a.count >= 5 && b.count >= 5 && a.prefix(5) == b.prefix(5))
    }

    /// The speakers a request names ("What did Kirsty Williams...", "...the Industrial Designer say",
    /// "the professor" for "Professor E"), with the positions in `words` their names take.
    /// Sure namings come first: two or more words of a name in a row, or a lone capital for
    /// a name ending in that letter ("What did C think" for "Professor C"; "a" written small
    /// is only an article). Then, at positions those left free, single words: the one real
    /// word of a name ("Marketing", "the professor"), or a capitalised word that only this
    /// speaker's name holds ("Bains" for "Hon. Navdeep Bains"). Other single words do not
    /// name ("design" is not the Industrial Designer, and "Grad" in "Grad E" not Grad A).
    /// `capitalised` holds the positions of words written with a capital.
    static func namedSpeakers(in words: [String], capitalised: Set<Int> = [], among speakers: [(id: Int64, name: String)])
        -> (speakers: [(id: Int64, name: String)], positions: Set<Int>) {
        let names = speakers.map { QueryLanguage.tokens($0.name) }
        // Single words are read from the person's name, not from a role in brackets after it
        // ("Hon. David Lametti (Minister of Justice ... of Canada)" is not named by "Canada").
        let personalNames = speakers.map { speaker in
            QueryLanguage.tokens(String(speaker.name.prefix { $0 != "(" }))
        }
        // Which personal names hold each word: "Hon. Navdeep Bains" may speak under two labels.
        var holders: [String: Set<[String]>] = [:]
        for name in personalNames { for word in name { holders[word, default: []].insert(name) } }
        var runs = [[Range<Int>]](repeating: [], count: names.count)
        for (index, name) in names.enumerated() {
            for length in stride(from: min(name.count, words.count), through: 2, by: -1) where runs[index].isEmpty {
                for start in 0...(name.count - length) {
                    let part = name[start..<(start + length)]
                    // "of the" or "the government" in "(Leader of the Government ...)" names nobody:
                    // a run holding a grammar word needs two real words ("Leader of the Opposition").
                    let realWords = part.filter { $0.count >= 3 && !stopWords.contains($0) }.count
                    guard realWords >= (part.contains(where: stopWords.contains) ? 2 : 1) else { continue }
                    for position in 0...(words.count - length)
                    where zip(words[position..<(position + length)], part).allSatisfy(sameWord) {
                        runs[index].append(position..<(position + length))
                    }
                }
            }
            if runs[index].isEmpty, let letter = name.last, letter.count == 1 {
                runs[index] = capitalised.filter { words[$0] == letter }.map { $0..<($0 + 1) }
            }
        }
        let claimed = Set(runs.joined().joined())
        func isNameWord(_ word: String) -> Bool { word.count >= 4 && !stopWords.contains(word) }
        for (index, name) in personalNames.enumerated() where runs[index].isEmpty && !name.isEmpty {
            let realWords = name.filter { $0.count >= 3 }
            if name.count == 1 || realWords.count == 1 {
                let word = name.count == 1 ? name[0] : realWords[0]
                guard isNameWord(word) else { continue }
                runs[index] = words.indices.filter { !claimed.contains($0) && sameWord(words[$0], word) }.map { $0..<($0 + 1) }
            } else {
                runs[index] = capitalised.filter { position in
                    let word = words[position]
                    return !claimed.contains(position) && isNameWord(word) && holders[word]?.count == 1 && name.contains(word)
                }.map { $0..<($0 + 1) }
            }
        }
        var named: [(id: Int64, name: String)] = []
        var positions = Set<Int>()
        for (index, speaker) in speakers.enumerated() where !runs[index].isEmpty {
            named.append(speaker)
            for run in runs[index] { positions.formUnion(run) }
        }
        return (named, positions)
    }

    /// The topic words of a request, in order, without repeats, leaving out the words at `skipping`.
    static func topicWords(of words: [String], skipping: Set<Int> = []) -> [String] {
        var seen = Set<String>()
        return words.indices.compactMap { index in
            let word = words[index]
            guard !skipping.contains(index), !stopWords.contains(word), !requestWords.contains(word),
                  seen.insert(word).inserted else { return nil }
            return word
        }
    }
}

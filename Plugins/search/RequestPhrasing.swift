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

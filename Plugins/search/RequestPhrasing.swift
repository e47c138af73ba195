// Queries written as requests ("Summarize the discussion about X", "What did Y think
// about Z?") are what users really type; the words of the request itself are not what
// they look for. Such a query is read as the topic words it carries, any of which may
// match, ranked together.

import MeetingKit

enum RequestPhrasing {
    /// Words that carry no topic: the analyzer's stop words (`StopWords`, both languages)
    /// and these, common in requests and speech.
    static func isStopWord(_ word: String) -> Bool { StopWords.contains(word) || requestGrammarWords.contains(word) }

    /// Every word `isStopWord` holds.
    static var stopWords: Set<String> { StopWords.all.union(requestGrammarWords) }

    private static let requestGrammarWords: Set<String> = [
        "s", "t", "d", "ll", "m", "re", "ve", "can", "will", "just", "now", "whats", "whose", "also", "towards",
        "toward", "upon", "within", "without", "among", "via", "per", "whether", "yes", "yeah", "okay", "oh", "um",
        "uh", "well", "like", "really", "get", "got", "one", "us",
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

    /// The topic words of a request, in order, without repeats, leaving out the words at `skipping`.
    static func topicWords(of words: [String], skipping: Set<Int> = []) -> [String] {
        var seen = Set<String>()
        return words.indices.compactMap { index in
            let word = words[index]
            guard !skipping.contains(index), !isStopWord(word), !requestWords.contains(word),
                  seen.insert(word).inserted else { return nil }
            return word
        }
    }
}

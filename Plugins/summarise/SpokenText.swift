// Which words of a summary sentence carry content.

import MeetingKit

enum SpokenText {
    /// Words that make a sentence a backchannel, an acknowledgement or a courtesy
    /// ("Yeah, okay.", "Thank you for your attention.", "Colleagues,") rather than content.
    static let phatic: Set<String> = [
        "yeah", "yes", "yep", "no", "nope", "okay", "ok", "right", "alright", "sure", "oh", "well", "so", "thank", "thanks",
        "colleagues", "friends", "dear", "ladies", "gentlemen", "good", "morning", "afternoon", "evening", "welcome",
        "hello", "hi", "bye", "attention", "great", "cool", "fine", "really", "exactly", "true", "absolutely", "indeed",
        "gonna", "wanna", "gotta", "kinda", "sorta", "like", "mean", "know", "guess", "think", "just", "actually", "chair",
        "anyway", "maybe", "probably", "huh", "wow", "sorry", "pardon", "mister", "madam", "sir", "please",
    ]

    /// Words of thanks and greeting: a sentence with one is a courtesy, not content.
    static let courtesies: Set<String> = [
        "thank", "thanks", "thanked", "greetings", "greet", "congratulate", "congratulations", "congratulating", "applause",
    ]

    /// Function words: no weight in any vector.
    static let stopwords: Set<String> = [
        "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
        "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "d", "did",
        "do", "does", "doing", "don", "down", "during", "each", "else", "even", "ever", "every", "few", "for", "from",
        "further", "get", "got", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself",
        "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "let", "ll", "m", "me", "might", "more", "most",
        "much", "must", "my", "myself", "nor", "not", "now", "of", "off", "on", "once", "one", "only", "or", "other", "our",
        "ours", "ourselves", "out", "over", "own", "quite", "re", "s", "same", "shall", "she", "should", "some", "such",
        "t", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "thing",
        "things", "this", "those", "through", "to", "too", "under", "until", "up", "us", "ve", "very", "was", "way", "we",
        "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your",
        "yours", "yourself", "yourselves", "n't", "nt", "lot", "bit", "kind", "sort", "stuff", "something", "anything",
        "everything", "nothing", "someone", "anyone", "everyone", "go", "going", "gone", "went", "say", "said", "says",
        "see", "saw", "seen", "come", "came", "make", "made", "put", "take", "took", "want", "wanted", "need", "needed",
        "use", "used", "yeah", "okay", "ok", "uh", "um", "mm", "hmm", "oh", "ah", "whether", "though", "although", "yet",
        "still", "however", "therefore", "per", "via", "upon", "within", "without", "across", "along", "among", "around",
        "i'm", "it's", "that's", "there's", "we're", "they're", "you're", "can't", "won't", "isn't", "aren't", "two",
        "three", "first", "second", "many", "may", "another", "back", "well", "just", "like", "really", "know", "mean",
        "think", "right", "so", "gonna", "wanna", "actually", "probably", "maybe", "sure", "good", "yes", "no", "thank",
        "thanks", "would", "anyway", "whatever", "basically", "certainly", "course", "able", "getting", "doesn",
    ]

    /// Runs of letters and digits, as the corpus index and ROUGE cut words; a byte scan,
    /// with Unicode properties consulted only for runs that are not ASCII.
    static func words(_ text: Substring) -> [Substring] {
        var result: [Substring] = []
        let utf8 = text.utf8
        var start: String.Index?
        var nonASCII = false
        func flush(_ end: String.Index) {
            guard let begin = start else { return }
            let run = text[begin..<end]
            if nonASCII { result += run.split(whereSeparator: { !($0.isLetter || $0.isNumber) }) } else { result.append(run) }
            start = nil
            nonASCII = false
        }
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte >= 0x80 || (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) {
                if start == nil { start = index }
                if byte >= 0x80 { nonASCII = true }
            } else {
                flush(index)
            }
            utf8.formIndex(after: &index)
        }
        flush(utf8.endIndex)
        return result
    }
}

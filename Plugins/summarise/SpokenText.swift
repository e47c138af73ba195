// How a transcript sentence becomes summary text, and which words carry content.

import MeetingKit

enum SpokenText {
    /// The cleaning every summary sentence goes through, documented in the method
    /// schemas and re-implemented by the tests. On the whitespace-separated tokens of
    /// the cited span of the stored turn text:
    /// 1. a transcription mark (`TranscriptText.marks`) is removed wherever it occurs;
    /// 2. a filler token (`fillers`, compared lowercased without trailing `,.;:!?`) is dropped,
    ///    and so is a lone `,` right after a dropped filler or at the start;
    /// 3. an alphabetic token equal (ignoring case) to the token kept just before it is dropped (stutters);
    /// 4. tokens are joined by one space, except that a token made only of `,.;:!?%)` or
    ///    starting with an apostrophe (`'s`, `'ll`) or equal to `n't` is glued to the previous one;
    /// 5. the first character is upper-cased.
    static func clean(_ span: Substring) -> String {
        var kept: [Substring] = []
        var afterFiller = false
        for rawToken in span.split(whereSeparator: \.isWhitespace) {
            let token = rawToken.contains("{") ? Substring(TranscriptText.strippingMarks(String(rawToken))) : rawToken
            if token.isEmpty { continue }
            let bare = token.lowercased().trimmingSuffix(while: { ",.;:!?".contains($0) })
            if fillers.contains(bare) {
                afterFiller = true
                continue
            }
            if token == ",", afterFiller || kept.isEmpty { continue }
            afterFiller = false
            if let previous = kept.last, token.allSatisfy(\.isLetter), previous.lowercased() == token.lowercased() { continue }
            kept.append(token)
        }
        var text = ""
        for token in kept {
            let glued = token.allSatisfy { ",.;:!?%)".contains($0) } || token.hasPrefix("'") || token.hasPrefix("’") || token == "n't"
            if !text.isEmpty && !glued { text.append(" ") }
            text.append(contentsOf: token)
        }
        if let first = text.first, first.isLowercase {
            text = first.uppercased() + text.dropFirst()
        }
        return text
    }

    /// Sounds that carry no words; never in a summary.
    static let fillers: Set<String> = [
        "um", "umm", "uh", "uhh", "uhm", "hmm", "hm", "mm", "mmm", "mhm", "mm-hmm", "uh-huh", "er", "erm", "ah", "eh",
    ]

    /// Words that make a sentence a backchannel, an acknowledgement or a courtesy
    /// ("Yeah, okay.", "Thank you for your attention.", "Colleagues,") rather than content.
    static let phatic: Set<String> = [
        "yeah", "yes", "yep", "no", "nope", "okay", "ok", "right", "alright", "sure", "oh", "well", "so", "thank", "thanks",
        "colleagues", "friends", "dear", "ladies", "gentlemen", "good", "morning", "afternoon", "evening", "welcome",
        "hello", "hi", "bye", "attention", "great", "cool", "fine", "really", "exactly", "true", "absolutely", "indeed",
        "gonna", "wanna", "gotta", "kinda", "sorta", "like", "mean", "know", "guess", "think", "just", "actually", "chair",
        "anyway", "maybe", "probably", "huh", "wow", "sorry", "pardon", "mister", "madam", "sir", "please",
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

    /// Lowercased runs of letters and digits, as the corpus index and ROUGE cut words.
    static func words(_ text: Substring) -> [Substring] {
        text.split(whereSeparator: { !($0.isLetter || $0.isNumber) })
    }
}

extension StringProtocol {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return String(self[startIndex..<end])
    }
}

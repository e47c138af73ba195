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

    /// A speaker talking of themselves ("I", "my") or to the room ("you"): summaries report what
    /// was said about the subject, in the third person, so such sentences are rarely their material.
    static let firstPerson: Set<String> = [
        "i", "i'm", "i've", "i'd", "i'll", "me", "my", "mine", "myself",
        "я", "меня", "мне", "мной", "мой", "моя", "моё", "мое", "мои", "моего", "моей", "моих",
    ]
    static let secondPerson: Set<String> = [
        "you", "you're", "you've", "you'd", "you'll", "your", "yours", "yourself", "yourselves",
        "вы", "вас", "вам", "вами", "ваш", "ваша", "ваше", "ваши", "вашего", "вашей", "ваших", "ты", "тебя", "тебе",
    ]

    /// A sentence's words as its word features read them: runs of letters, digits and apostrophes,
    /// lower-cased, ’ read as '. Split once per candidate, read by `personShares` and `SummaryWords.shares`.
    static func scoredWords(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "'" || $0 == "’") })
            .map { $0.replacingOccurrences(of: "’", with: "'") }
    }

    /// The shares of a sentence's words (`scoredWords`) that are `firstPerson` and `secondPerson` words.
    static func personShares(_ words: [String]) -> (first: Float, second: Float) {
        var first = 0, second = 0
        for word in words {
            if firstPerson.contains(word) { first += 1 } else if secondPerson.contains(word) { second += 1 }
        }
        guard !words.isEmpty else { return (0, 0) }
        return (Float(first) / Float(words.count), Float(second) / Float(words.count))
    }

    /// Words of speech too common to locate a topic, beyond the analyzer's stop words
    /// (`StopWords`): no weight in any vector.
    static let spokenFunctionWords: Set<String> = [
        "also", "can", "d", "don", "else", "even", "ever", "every", "get", "got", "let", "ll", "m", "might", "much",
        "must", "now", "one", "quite", "re", "s", "shall", "t", "thing", "things", "us", "ve", "way", "will", "n't",
        "nt", "lot", "bit", "kind", "sort", "stuff", "something", "anything", "everything", "nothing", "someone",
        "anyone", "everyone", "go", "going", "gone", "went", "say", "said", "says", "see", "saw", "seen", "come",
        "came", "make", "made", "put", "take", "took", "want", "wanted", "need", "needed", "use", "used", "yeah",
        "okay", "ok", "uh", "um", "mm", "hmm", "oh", "ah", "whether", "though", "although", "yet", "still", "however",
        "therefore", "per", "via", "upon", "within", "without", "across", "along", "among", "around", "two", "three",
        "first", "second", "many", "may", "another", "back", "well", "just", "like", "really", "know", "mean",
        "think", "right", "gonna", "wanna", "actually", "probably", "maybe", "sure", "good", "yes", "thank", "thanks",
        "anyway", "whatever", "basically", "certainly", "course", "able", "getting", "doesn",
    ]
}

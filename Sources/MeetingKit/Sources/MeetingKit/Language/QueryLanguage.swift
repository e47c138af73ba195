// The search query language: words, "phrases", prefix*, OR, -exclusions and speaker:Name.
// Parsed into terms of lowercased tokens. It lives here because search and alerts read
// the same language; each turns the terms into what its engine needs.


/// One thing to find: a word, a prefix or a phrase, as the tokens FTS5's unicode61
/// tokenizer would see (so "children's" is the phrase "children s").
public struct QueryTerm: Equatable, Sendable {
    public var tokens: [String]
    public var isPhrase: Bool
    public var isPrefix: Bool
    /// As the user wrote it, for corrections and messages.
    public var written: String
    /// 1-based character position in the query.
    public var position: Int

    public init(tokens: [String], isPhrase: Bool, isPrefix: Bool, written: String, position: Int) {
        self.tokens = tokens; self.isPhrase = isPhrase; self.isPrefix = isPrefix; self.written = written; self.position = position
    }
}

public struct ParsedQuery: Equatable, Sendable {
    /// Every clause must match; a clause matches when any of its alternatives (joined by OR) does.
    public var clauses: [[QueryTerm]] = []
    public var excluded: [QueryTerm] = []
    public var speakers: [String] = []

    public init() {}

    public var terms: [QueryTerm] { clauses.flatMap { $0 } }
    public var usesOperators: Bool {
        !excluded.isEmpty || !speakers.isEmpty || clauses.contains { $0.count > 1 }
            || terms.contains { $0.isPrefix || $0.written.hasPrefix("\"") }
    }

    /// Words that open a question or a request.
    public static let requestOpeners: Set<String> = [
        "what", "whats", "why", "how", "who", "whom", "whose", "when", "where", "which", "summarize", "summarise",
        "describe", "explain", "tell", "list", "give", "show", "find", "please", "did", "does", "do", "was", "were",
        "is", "are", "can", "could", "should", "would", "will", "has", "have", "had",
    ]

    /// Whether `query`, which parsed as this, reads as a question or request rather than
    /// keywords: search then looks for its topic words, and alerts cannot prefilter it.
    public func readsAsRequest(_ query: String) -> Bool {
        guard !usesOperators, terms.count >= 3, let first = terms.first?.tokens.first else { return false }
        return Self.requestOpeners.contains(first) || query.last(where: { !$0.isWhitespace }) == "?"
    }
}

public struct QuerySyntaxError: Error, Equatable, Sendable {
    public let position: Int
    public let reason: String
    public let hint: String

    public init(position: Int, reason: String, hint: String) {
        self.position = position; self.reason = reason; self.hint = hint
    }
}

public enum QueryLanguage {
    /// FTS5 gathers every posting of every term a prefix covers before it ranks one;
    /// "th*" covers half the corpus and takes seconds.
    public static let shortestPrefix = 3

    public static func checkPrefix(_ tokens: [String], position: Int) throws(QuerySyntaxError) {
        guard let last = tokens.last, last.count < shortestPrefix else { return }
        throw QuerySyntaxError(position: position, reason: "a prefix needs at least \(shortestPrefix) letters",
                               hint: "type more letters before the *, or search for the word without it")
    }

    /// Splits text into tokens as unicode61 does: runs of letters and digits, lowercased.
    public static func tokens<S: StringProtocol>(_ text: S) -> [String] { NamesInText.words(text) }

    public static func parse(_ query: String) throws(QuerySyntaxError) -> ParsedQuery {
        // Control characters are read as spaces: they can only come from pasting or hostility.
        let characters = Array(query.map { $0.isWhitespace || $0.unicodeScalars.allSatisfy(\.properties.isControlLike) ? " " : $0 })
        var parsed = ParsedQuery()
        var index = 0
        var pendingOr: Int? = nil

        func add(_ term: QueryTerm, negated: Bool) {
            if negated { parsed.excluded.append(term) }
            else if pendingOr != nil, !parsed.clauses.isEmpty { parsed.clauses[parsed.clauses.count - 1].append(term) }
            else { parsed.clauses.append([term]) }
            pendingOr = nil
        }

        /// Reads a quoted string starting at the opening quote; returns its content.
        func readQuoted() throws(QuerySyntaxError) -> String {
            let open = index
            index += 1
            guard let close = characters[index...].firstIndex(of: "\"") else {
                throw QuerySyntaxError(position: open + 1, reason: "unclosed quote",
                                       hint: "close the phrase with a second \" or remove the quote")
            }
            index = close + 1
            return String(characters[(open + 1)..<close])
        }

        while index < characters.count {
            if characters[index] == " " { index += 1; continue }
            let start = index
            var negated = false
            if characters[index] == "-" {
                negated = true
                index += 1
                guard index < characters.count, characters[index] != " " else {
                    throw QuerySyntaxError(position: start + 1, reason: "a lone '-' excludes nothing",
                                           hint: "write -word to leave out turns with that word, or remove the '-'")
                }
            }
            if characters[index] == "\"" {
                var content = Substring(try readQuoted())
                var isPrefix = false
                // "remote contr*" is read as "remote contr"*: the phrase's last word is a prefix.
                while let last = content.last, last == "*" || last == " " {
                    if last == "*" { isPrefix = true }
                    content = content.dropLast()
                }
                while index < characters.count, characters[index] == "*" { isPrefix = true; index += 1 }
                let tokens = tokens(content)
                guard !tokens.isEmpty else {
                    throw QuerySyntaxError(position: start + 1, reason: "the phrase has no words",
                                           hint: "put words between the quotes, or remove them")
                }
                if isPrefix { try checkPrefix(tokens, position: start + 1) }
                add(QueryTerm(tokens: tokens, isPhrase: true, isPrefix: isPrefix, written: "\"\(content)\"",
                              position: start + 1), negated: negated)
                continue
            }
            let wordStart = index
            while index < characters.count, characters[index] != " ", characters[index] != "\"" { index += 1 }
            let word = String(characters[wordStart..<index])
            if word == "OR", !negated {
                guard !parsed.clauses.isEmpty, pendingOr == nil else {
                    throw QuerySyntaxError(position: start + 1, reason: "OR needs a word on each side",
                                           hint: "write a OR b, or \"or\" in quotes to search for the word")
                }
                pendingOr = start + 1
                continue
            }
            if word.lowercased().hasPrefix("speaker:") {
                var name = String(word.dropFirst("speaker:".count))
                if name.isEmpty, index < characters.count, characters[index] == "\"" { name = try readQuoted() }
                guard !negated else {
                    throw QuerySyntaxError(position: start + 1, reason: "a speaker cannot be excluded",
                                           hint: "use speaker:Name to keep one speaker's turns")
                }
                guard !tokens(name).isEmpty else {
                    throw QuerySyntaxError(position: start + 1, reason: "speaker: needs a name",
                                           hint: "write speaker:Putin or speaker:\"Vladimir Putin\"")
                }
                parsed.speakers.append(name)
                continue
            }
            var stem = Substring(word)
            var isPrefix = false
            while stem.hasSuffix("*") { stem = stem.dropLast(); isPrefix = true }
            let tokens = tokens(stem)
            // Punctuation alone ("&", "(", "*") has nothing the index could match: it is skipped.
            guard !tokens.isEmpty else { continue }
            if isPrefix { try checkPrefix(tokens, position: start + 1) }
            add(QueryTerm(tokens: tokens, isPhrase: tokens.count > 1, isPrefix: isPrefix, written: String(word),
                          position: start + 1), negated: negated)
        }
        if let orPosition = pendingOr {
            throw QuerySyntaxError(position: orPosition, reason: "OR needs a word on each side",
                                   hint: "write a OR b, or \"or\" in quotes to search for the word")
        }
        if parsed.clauses.isEmpty, parsed.speakers.isEmpty {
            throw parsed.excluded.isEmpty
                ? QuerySyntaxError(position: 1, reason: "the query has no words to search for", hint: "type a word to find")
                : QuerySyntaxError(position: parsed.excluded[0].position, reason: "every word is excluded",
                                   hint: "add a word to find next to the -excluded ones")
        }
        return parsed
    }
}

extension Unicode.Scalar.Properties {
    /// C0/C1 controls and format characters such as zero-width joiners and bidi overrides.
    public var isControlLike: Bool { generalCategory == .control || generalCategory == .format }
}

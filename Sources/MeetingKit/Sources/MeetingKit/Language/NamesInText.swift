// Who a question names: "What did Kirsty Williams say…", "…the Industrial Designer
// think", "the Leader of the Opposition", "What did C think" for Professor C. One rule
// for every module (search favours the people named, summarise locates their words);
// the candidates come from `PersonResolver`'s people with their labels and roles.

public enum NamesInText {
    /// A question's or a name's words: runs of letters and digits, lower-cased, as the
    /// query language cuts them.
    public static func words<S: StringProtocol>(_ text: S) -> [String] {
        text.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map { $0.lowercased() }
    }

    /// Positions in `words(text)` of the words written with a capital.
    public static func capitalisedPositions(_ text: String) -> Set<Int> {
        let written = text.split(whereSeparator: { !($0.isLetter || $0.isNumber) })
        return Set(written.indices.filter { written[$0].first?.isUppercase == true })
    }

    /// Whether two words are one word in another form ("designer", "design"): equal,
    /// or sharing their first five letters.
    public static func sameWord(_ a: String, _ b: String) -> Bool {
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
    public static func named(in words: [String], capitalised: Set<Int> = [], among speakers: [(id: Int64, name: String)])
        -> (speakers: [(id: Int64, name: String)], positions: Set<Int>) {
        let names = speakers.map { Self.words($0.name) }
        // Single words are read from the person's name, not from a role in brackets after it
        // ("Hon. David Lametti (Minister of Justice ... of Canada)" is not named by "Canada").
        let personalNames = speakers.map { speaker in
            Self.words(String(speaker.name.prefix { $0 != "(" }))
        }
        // Which people hold each word: one person may speak under two labels ("Hon. Navdeep Bains").
        var holders: [String: Set<Int64>] = [:]
        for (name, speaker) in zip(personalNames, speakers) { for word in name { holders[word, default: []].insert(speaker.id) } }
        var runs = [[Range<Int>]](repeating: [], count: names.count)
        for (index, name) in names.enumerated() {
            for length in stride(from: min(name.count, words.count), through: 2, by: -1) where runs[index].isEmpty {
                for start in 0...(name.count - length) {
                    let part = name[start..<(start + length)]
                    // "of the" or "the government" in "(Leader of the Government ...)" names nobody:
                    // a run holding a grammar word needs two real words ("Leader of the Opposition").
                    let realWords = part.filter { $0.count >= 3 && !StopWords.contains($0) }.count
                    guard realWords >= (part.contains(where: StopWords.contains) ? 2 : 1) else { continue }
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
        func isNameWord(_ word: String) -> Bool { word.count >= 4 && !StopWords.contains(word) }
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
}

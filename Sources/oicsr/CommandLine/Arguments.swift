// Command-line parsing: each command declares its options once, and the same declaration
// drives parsing, validation and `--help`.

/// One `--name [VALUE]` option.
struct OptionSpec {
    var name: String
    /// Placeholder for the value (e.g. "N"), or nil for a flag.
    var value: String?
    var help: String
}

/// A command: its name, what it does, its positional arguments and options.
struct CommandSpec {
    var name: String
    var summary: String
    var usage: String
    var options: [OptionSpec]
    var positionals: ClosedRange<Int> = 0...0
    var details: String = ""

    var help: String {
        var lines = ["usage: oicsr \(usage)", "", summary]
        if !details.isEmpty { lines += ["", details] }
        let all = options + [OptionSpec(name: "help", value: nil, help: "show this help")]
        lines += ["", "options:"]
        let labels = all.map { "--\($0.name)" + ($0.value.map { " \($0)" } ?? "") }
        let width = labels.map(\.count).max() ?? 0
        for (label, option) in zip(labels, all) {
            lines.append("  " + label.padding(toLength: width + 2, withPad: " ", startingAt: 0) + option.help)
        }
        return lines.joined(separator: "\n")
    }
}

/// A command line parsed against a `CommandSpec`.
struct ParsedArguments {
    let command: CommandSpec
    var positionals: [String] = []
    var values: [String: String] = [:]
    var flags: Set<String> = []

    init(_ arguments: [String], for command: CommandSpec) throws(UsageError) {
        self.command = command
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--"), argument.count > 2 else {
                positionals.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if name == "help" { flags.insert("help"); continue }
            guard let option = command.options.first(where: { $0.name == name }) else {
                throw UsageError(argument: "--\(name)", problem: "unknown option for 'oicsr \(command.name)'; see 'oicsr \(command.name) --help'")
            }
            if option.value != nil {
                guard let value = inlineValue ?? rest.popFirst() else {
                    throw UsageError(argument: "--\(name)", problem: "needs a value (\(option.value!))")
                }
                values[name] = value
            } else {
                guard inlineValue == nil else { throw UsageError(argument: "--\(name)", problem: "takes no value") }
                flags.insert(name)
            }
        }
        if flags.contains("help") { return }
        guard command.positionals.contains(positionals.count) else {
            let expected = command.positionals.lowerBound == command.positionals.upperBound
                ? "\(command.positionals.lowerBound)" : "\(command.positionals.lowerBound) to \(command.positionals.upperBound)"
            throw UsageError(argument: positionals.first ?? command.name,
                             problem: "expected \(expected) argument(s), found \(positionals.count); usage: oicsr \(command.usage)")
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }
    func string(_ name: String) -> String? { values[name] }

    func integer(_ name: String, default fallback: Int, minimum: Int = 1) throws(UsageError) -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text) else { throw UsageError(argument: "--\(name)", problem: "'\(text)' is not an integer") }
        guard value >= minimum else { throw UsageError(argument: "--\(name)", problem: "must be at least \(minimum), found \(value)") }
        return value
    }

    /// A number in an open interval (or above `above` when `below` is nil).
    func number(_ name: String, default fallback: Double, above: Double, below: Double? = nil, allowLowest: Bool = false) throws(UsageError) -> Double {
        guard let text = values[name] else { return fallback }
        guard let value = Double(text), value.isFinite else { throw UsageError(argument: "--\(name)", problem: "'\(text)' is not a number") }
        let lowOK = allowLowest ? value >= above : value > above
        guard lowOK, below.map({ value < $0 }) ?? true else {
            let range = below.map { "between \(above) and \($0) (exclusive)" } ?? (allowLowest ? "at least \(above)" : "above \(above)")
            throw UsageError(argument: "--\(name)", problem: "must be \(range), found \(text)")
        }
        return value
    }

    /// One of an enum's raw values.
    func choice<T: RawRepresentable & CaseIterable>(_ name: String, default fallback: T) throws(UsageError) -> T where T.RawValue == String {
        guard let text = values[name] else { return fallback }
        guard let value = T(rawValue: text) else {
            throw UsageError(argument: "--\(name)", problem: "'\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}

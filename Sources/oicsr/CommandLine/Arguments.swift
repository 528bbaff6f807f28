// Command-line parsing against a command's declared options (`Option`, `Flag`): the same
// declarations drive parsing, validation and `--help`.

/// A command: its name, what it does, its positional arguments and options.
struct CommandSpec {
    var name: String
    var summary: String
    var usage: String
    var options: [OptionDeclaration]
    var positionals: ClosedRange<Int> = 0...0
    var details: String = ""

    static let help = Flag(name: "help", help: "show this help")

    var help: String {
        var lines = ["usage: oicsr \(usage)", "", summary]
        if !details.isEmpty { lines += ["", details] }
        let all = options + [Self.help.declaration]
        lines += ["", "options:"]
        let labels = all.map { "--\($0.name)" + ($0.placeholder.map { " \($0)" } ?? "") }
        let width = labels.map(\.count).max() ?? 0
        for (label, option) in zip(labels, all) {
            lines.append("  " + label.padding(toLength: width + 2, withPad: " ", startingAt: 0) + option.help)
        }
        return lines.joined(separator: "\n")
    }
}

/// A command line parsed against a `CommandSpec`: every option known, none given twice,
/// every value present. Values are read, and checked, through their declarations.
struct ParsedArguments {
    let command: CommandSpec
    private(set) var positionals: [String] = []
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    init(_ arguments: [String], for command: CommandSpec) throws(UsageError) {
        self.command = command
        var rest = arguments[...]
        var seen: Set<String> = []
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
            if name == CommandSpec.help.name { flags.insert(name); continue }
            guard let option = command.options.first(where: { $0.name == name }) else {
                throw UsageError(argument: "--\(name)", problem: "unknown option for 'oicsr \(command.name)'; see 'oicsr \(command.name) --help'")
            }
            guard seen.insert(name).inserted else {
                throw UsageError(argument: "--\(name)", problem: "given twice; give it once")
            }
            if let placeholder = option.placeholder {
                // A value that looks like an option is a forgotten value, unless written --name=VALUE.
                guard let value = inlineValue ?? rest.first.flatMap({ $0.hasPrefix("--") ? nil : $0 }) else {
                    throw UsageError(argument: "--\(name)", problem: "needs a value (\(placeholder))")
                }
                if inlineValue == nil { rest.removeFirst() }
                values[name] = value
            } else {
                guard inlineValue == nil else { throw UsageError(argument: "--\(name)", problem: "takes no value") }
                flags.insert(name)
            }
        }
        if wantsHelp { return }
        guard command.positionals.contains(positionals.count) else {
            let expected = command.positionals.lowerBound == command.positionals.upperBound
                ? "\(command.positionals.lowerBound)" : "\(command.positionals.lowerBound) to \(command.positionals.upperBound)"
            throw UsageError(argument: positionals.first ?? command.name,
                             problem: "expected \(expected) argument(s), found \(positionals.count); usage: oicsr \(command.usage)")
        }
    }

    var wantsHelp: Bool { flags.contains(CommandSpec.help.name) }

    /// The option's value as given, else its default (nil when it has none).
    func valueIfAny<Value>(_ option: Option<Value>) throws(UsageError) -> Value? {
        precondition(command.options.contains { $0.name == option.name }, "--\(option.name) is not declared by '\(command.name)'")
        guard let text = values[option.name] else { return option.defaultValue }
        return try option.parse(text)
    }

    /// The value of an option that has a default.
    func value<Value>(_ option: Option<Value>) throws(UsageError) -> Value {
        guard let value = try valueIfAny(option) else { preconditionFailure("--\(option.name) has no default") }
        return value
    }

    /// Whether the option was given on the command line (not defaulted).
    func isGiven<Value>(_ option: Option<Value>) -> Bool { values[option.name] != nil }

    func flag(_ flag: Flag) -> Bool {
        precondition(command.options.contains { $0.name == flag.name }, "--\(flag.name) is not declared by '\(command.name)'")
        return flags.contains(flag.name)
    }
}

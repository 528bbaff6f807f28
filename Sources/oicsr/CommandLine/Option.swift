// Options declared once, typed: a command's options type holds one `Option` (or `Flag`) per
// option, whose name, placeholder, default and help drive parsing, validation and `--help`
// alike. Reading an option goes through its declaration, never through a string, so a name
// cannot be declared one way and read another.

/// An option that takes a value: `--name VALUE` or `--name=VALUE`.
struct Option<Value: Sendable>: Sendable {
    let name: String
    let placeholder: String
    let summary: String
    /// The value when the option is not given; nil when it has none (optional or required).
    let defaultValue: Value?
    /// How the default reads in `--help`.
    let defaultDescription: String?
    let parse: @Sendable (String) throws(UsageError) -> Value

    var declaration: OptionDeclaration {
        OptionDeclaration(name: name, placeholder: placeholder,
                          help: defaultDescription.map { "\(summary) (default \($0))" } ?? summary)
    }

    /// The error for a bad value of this option.
    func invalid(_ problem: String) -> UsageError { UsageError(argument: "--\(name)", problem: problem) }
}

/// An option without a value: `--name`.
struct Flag: Sendable {
    let name: String
    let help: String

    var declaration: OptionDeclaration { OptionDeclaration(name: name, placeholder: nil, help: help) }
}

/// What parsing and `--help` need to know of any option.
struct OptionDeclaration: Sendable {
    var name: String
    /// The value's placeholder, or nil for a flag.
    var placeholder: String?
    var help: String
}

extension Option where Value == Int {
    /// A whole number from `minimum` to `maximum`.
    static func count(_ name: String, placeholder: String = "N", default fallback: Int?, minimum: Int = 1,
                      maximum: Int = Int.max, help: String) -> Option<Int> {
        Option(name: name, placeholder: placeholder, summary: help, defaultValue: fallback,
               defaultDescription: fallback.map(String.init), parse: { text throws(UsageError) in
            guard let value = Int(text) else { throw UsageError(argument: "--\(name)", problem: "'\(text)' is not an integer") }
            guard value >= minimum else { throw UsageError(argument: "--\(name)", problem: "must be at least \(minimum), found \(value)") }
            guard value <= maximum else { throw UsageError(argument: "--\(name)", problem: "must be at most \(maximum), found \(value)") }
            return value
        })
    }
}

extension Option where Value == Double {
    /// A default as a user would write it: a whole number without a point, and a default that
    /// came from a Float (a learning rate of 0.05) as the Float prints, not as the Double it
    /// widens to (0.05000000074505806).
    static func describe(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        if Double(Float(value)) == value { return "\(Float(value))" }
        return "\(value)"
    }

    /// A finite number in `range` (`lowerOpen`/`upperOpen` exclude the bounds).
    static func number(_ name: String, placeholder: String = "X", default fallback: Double?, range: ClosedRange<Double>,
                       lowerOpen: Bool = false, upperOpen: Bool = false, help: String) -> Option<Double> {
        Option(name: name, placeholder: placeholder, summary: help, defaultValue: fallback,
               defaultDescription: fallback.map(Self.describe),
               parse: { text throws(UsageError) in
            guard let value = Double(text), value.isFinite else { throw UsageError(argument: "--\(name)", problem: "'\(text)' is not a number") }
            let aboveLow = lowerOpen ? value > range.lowerBound : value >= range.lowerBound
            let belowHigh = upperOpen ? value < range.upperBound : value <= range.upperBound
            guard aboveLow, belowHigh else {
                let low = lowerOpen ? "above \(range.lowerBound)" : "at least \(range.lowerBound)"
                let high = range.upperBound == .greatestFiniteMagnitude ? "" : (upperOpen ? " and below \(range.upperBound)" : " and at most \(range.upperBound)")
                throw UsageError(argument: "--\(name)", problem: "must be \(low)\(high), found \(text)")
            }
            return value
        })
    }

    /// A share of something, strictly between 0 and 1.
    static func share(_ name: String, default fallback: Double? = nil, help: String) -> Option<Double> {
        number(name, placeholder: "SHARE", default: fallback, range: 0...1, lowerOpen: true, upperOpen: true, help: help)
    }
}

extension Option where Value == String {
    /// Free text, such as a path.
    static func text(_ name: String, placeholder: String, default fallback: String? = nil, defaultDescription: String? = nil,
                     help: String) -> Option<String> {
        Option(name: name, placeholder: placeholder, summary: help, defaultValue: fallback,
               defaultDescription: defaultDescription ?? fallback, parse: { text throws(UsageError) in
            guard !text.isEmpty else { throw UsageError(argument: "--\(name)", problem: "is empty") }
            return text
        })
    }
}

extension Option where Value: CaseIterable & RawRepresentable & Sendable, Value.RawValue == String {
    /// One of an enum's cases, by raw value; the help lists them.
    static func choice(_ name: String, placeholder: String = "KIND", default fallback: Value?,
                       defaultDescription: String? = nil, help: String) -> Option<Value> {
        let names = Value.allCases.map(\.rawValue).joined(separator: ", ")
        return Option(name: name, placeholder: placeholder, summary: "\(help): \(names)", defaultValue: fallback,
                      defaultDescription: defaultDescription ?? fallback?.rawValue, parse: { text throws(UsageError) in
            guard let value = Value(rawValue: text) else {
                throw UsageError(argument: "--\(name)", problem: "'\(text)' is not one of \(names)")
            }
            return value
        })
    }
}

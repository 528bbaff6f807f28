import Engine
import Foundation

enum InfoCommand {
    struct Options {
        static let input = Option<[Int]>(
            name: "input", placeholder: "C,H,W", summary: "input size for a built-in model", defaultValue: [1, 28, 28],
            defaultDescription: "1,28,28", parse: { text throws(UsageError) in
                let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
                guard parts.count == 3, let values = parts as? [Int], values.allSatisfy({ (1...ArchitectureLimits.dimension).contains($0) }) else {
                    throw UsageError(argument: "--input", problem: "expected C,H,W as three positive integers, found '\(text)'")
                }
                return values
            })
        static let classes = Option.count("classes", placeholder: "K", default: 10, minimum: 2, maximum: ArchitectureLimits.dimension,
                                          help: "classes for a built-in model")
        static let json = Flag(name: "json", help: "print the table as JSON")
        static let spec = CommandSpec(
            name: "info", summary: "Per-layer table of a model: output shapes, MACs and parameters.",
            usage: "info [MODEL] [--input C,H,W] [--classes K] [--json]",
            options: [input.declaration, classes.declaration, json.declaration],
            positionals: 0...1,
            details: "MODEL is a built-in name, an architecture .json or a checkpoint (default convnet-s).\nMACs are multiply-accumulates of conv and linear layers for one input.")

        let source: ModelSource
        let input: [Int]
        let classes: Int
        let json: Bool

        init(_ arguments: ParsedArguments) throws(UsageError) {
            source = try ModelSource(arguments.positionals.first ?? BuiltInModel.convnetS.rawValue, flag: "MODEL")
            input = try arguments.value(Self.input)
            classes = try arguments.value(Self.classes)
            json = arguments.flag(Self.json)
        }
    }

    static let spec = Options.spec

    struct Row: Encodable {
        var name: String
        var kind: String
        var output: String
        var macs: Int
        var parameters: Int
    }

    struct Result: Encodable {
        var model: String
        var input: [Int]
        var classes: Int
        var macs: Int
        var parameters: Int
        var layers: [Row]
    }

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let architecture = try options.source.architecture(input: options.input, classes: options.classes)
        let cost = try ModelGraph(architecture).cost
        let rows = cost.layers.map {
            Row(name: $0.name, kind: $0.kind.rawValue, output: $0.outputShape.description, macs: $0.macs, parameters: $0.parameters)
        }
        if options.json {
            Console.printJSON(Result(model: architecture.name, input: architecture.input, classes: architecture.classes,
                                     macs: cost.macs, parameters: cost.parameters, layers: rows))
            return
        }
        print("\(architecture.name): input \(architecture.input.map(String.init).joined(separator: "x")), \(architecture.classes) classes")
        let table = [["layer", "kind", "output", "MACs", "params"]]
            + rows.map { [$0.name, $0.kind, $0.output, $0.macs == 0 ? "" : $0.macs.formatted(), $0.parameters == 0 ? "" : $0.parameters.formatted()] }
            + [["total", "", "", cost.macs.formatted(), cost.parameters.formatted()]]
        let widths = (0..<5).map { column in table.map { $0[column].count }.max()! }
        for (index, row) in table.enumerated() {
            let cells = row.enumerated().map { column, cell in
                column >= 3 ? String(repeating: " ", count: widths[column] - cell.count) + cell
                            : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
            if index == 0 || index == table.count - 2 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        print("MACs: multiply-accumulates of conv and linear layers for one \(architecture.input.map(String.init).joined(separator: "x")) input")
    }
}

import Engine
import Foundation

enum InfoCommand {
    static let spec = CommandSpec(
        name: "info", summary: "Per-layer table of a model: output shapes, MACs and parameters.",
        usage: "info [MODEL] [--input C,H,W] [--classes K] [--json]",
        options: [
            OptionSpec(name: "input", value: "C,H,W", help: "input size for a built-in model (default 1,28,28)"),
            OptionSpec(name: "classes", value: "K", help: "classes for a built-in model (default 10)"),
            OptionSpec(name: "json", value: nil, help: "print the table as JSON"),
        ],
        positionals: 0...1,
        details: "MODEL is a built-in name, an architecture .json or a checkpoint (default convnet-s).\nMACs are multiply-accumulates of conv and linear layers for one input.")

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

    /// `--input C,H,W`, default 1,28,28.
    static func inputShape(_ arguments: ParsedArguments) throws(UsageError) -> [Int] {
        guard let text = arguments.string("input") else { return [1, 28, 28] }
        let parts = text.split(separator: ",").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else {
            throw UsageError(argument: "--input", problem: "expected C,H,W as three positive integers, found '\(text)'")
        }
        return parts
    }

    static func run(_ arguments: ParsedArguments) throws {
        let source = try ModelSource(arguments.positionals.first ?? "convnet-s", flag: "MODEL")
        let input = try inputShape(arguments)
        let classes = try arguments.integer("classes", default: 10, minimum: 2)
        let architecture = try source.architecture(input: input, classes: classes)
        let cost = try ModelGraph(architecture).cost
        let rows = cost.layers.map {
            Row(name: $0.name, kind: $0.kind.rawValue, output: $0.outputShape.description, macs: $0.macs, parameters: $0.parameters)
        }
        if arguments.flag("json") {
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

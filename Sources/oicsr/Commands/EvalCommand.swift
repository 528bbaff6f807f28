import Engine
import Canvas
import Foundation

enum EvalCommand {
    struct Options {
        static let batchSize = Option.count("batch-size", default: 256, maximum: 1 << 16, help: "batch size")
        static let json = Flag(name: "json", help: "print the result as JSON")
        static let spec = CommandSpec(
            name: "eval", summary: "Evaluate a checkpoint on the test split: top-1, loss, per-class accuracy.",
            usage: "eval CHECKPOINT [--data DIR] [--json]",
            options: DataOptions.declarations + [batchSize.declaration, json.declaration],
            positionals: 1...1)

        let checkpoint: String
        let data: DataOptions
        let batchSize: Int
        let json: Bool

        init(_ arguments: ParsedArguments) throws(UsageError) {
            checkpoint = arguments.positionals[0]
            data = try DataOptions(arguments)
            batchSize = try arguments.value(Self.batchSize)
            json = arguments.flag(Self.json)
        }
    }

    static let spec = Options.spec

    struct Result: Encodable {
        var checkpoint: String
        var model: String
        var dataset: String
        var macs: Int
        var parameters: Int
        var evaluation: Evaluation
        var classNames: [String]
    }

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let path = options.checkpoint
        let (model, info) = try Checkpoint.load(path: path)
        let data = try options.data.load()
        try options.data.check(data.test, fits: model.architecture)
        let progress = ProgressLine()
        let evaluation = Evaluator.evaluate(model, dataset: data.test, normalization: info.normalization,
                                            batchSize: options.batchSize) { share in
            progress.update(label: "evaluating", share: share, detail: "")
            return true
        }!
        progress.finish()
        let cost = model.graph.cost
        if options.json {
            Console.printJSON(Result(checkpoint: path, model: model.architecture.name, dataset: data.test.name, macs: cost.macs,
                                     parameters: cost.parameters, evaluation: evaluation, classNames: data.test.classNames))
            return
        }
        print("\(path): \(model.architecture.name) on \(data.test.name) test (\(evaluation.count) images)")
        print("top-1 \(Format.percent(evaluation.top1, decimals: 2))   loss \(String(format: "%.4f", evaluation.loss))   \(cost.macs.formatted()) MACs   \(cost.parameters.formatted()) parameters")
        let width = max(5, data.test.classNames.map(\.count).max() ?? 0)
        for (name, accuracy) in zip(data.test.classNames, evaluation.perClassAccuracy) {
            print("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + Format.percent(accuracy, decimals: 1))
        }
    }
}

import Engine
import Explorer
import Foundation

enum EvalCommand {
    static let spec = CommandSpec(
        name: "eval", summary: "Evaluate a checkpoint on the test split: top-1, loss, per-class accuracy.",
        usage: "eval CHECKPOINT [--data DIR] [--json]",
        options: [
            OptionSpec(name: "data", value: "DIR", help: "data folder (default $OICSR_DATA, else Fashion-MNIST)"),
            OptionSpec(name: "batch-size", value: "N", help: "batch size (default 256)"),
            OptionSpec(name: "limit", value: "N", help: "use only the first N test examples"),
            OptionSpec(name: "json", value: nil, help: "print the result as JSON"),
        ],
        positionals: 1...1)

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
        let path = arguments.positionals[0]
        let (model, info) = try Checkpoint.load(path: path)
        let folder = arguments.string("data") ?? DataSource.defaultFolder()
        let data = try DataArguments.load(arguments)
        try DataArguments.check(data.test, fits: model.architecture, dataFolder: folder)
        let progress = ProgressLine()
        let evaluation = Evaluator.evaluate(model, dataset: data.test, normalization: info.normalization,
                                            batchSize: try arguments.integer("batch-size", default: 256)) { share in
            progress.update(label: "evaluating", share: share, detail: "")
            return true
        }!
        progress.finish()
        let cost = model.graph.cost
        if arguments.flag("json") {
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

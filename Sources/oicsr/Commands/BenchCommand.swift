import Engine
import Canvas
import Explorer
import Foundation

enum BenchCommand {
    struct Options {
        static let seconds = Option.number("seconds", placeholder: "S", default: 2, range: 0...3600, lowerOpen: true,
                                           help: "time spent on each measurement")
        static let models = Option<[BuiltInModel]>(
            name: "models", placeholder: "LIST", summary: "comma-separated built-in models", defaultValue: [.convnetS, .resnet20],
            defaultDescription: "convnet-s,resnet20", parse: { text throws(UsageError) in
                var models: [BuiltInModel] = []
                for name in text.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let model = BuiltInModel(rawValue: String(name)) else {
                        throw UsageError(argument: "--models", problem: "'\(name)' is not a built-in model (\(BuiltInModel.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    models.append(model)
                }
                return models
            })
        static let json = Flag(name: "json", help: "print the results as JSON")
        static let spec = CommandSpec(
            name: "bench", summary: "Measure training and inference speed of the reference models, with cblas_sgemm's peak in the same run.",
            usage: "bench [--seconds S] [--models LIST] [--json]",
            options: [seconds.declaration, models.declaration, json.declaration],
            details: "Inputs are 1x28x28 with 10 classes. Training: batch 128, one SGD step; inference: batch 256; latency: batch 1.\nThe training GFLOP/s count a step as 3 x forward MACs x 2 flops. Workers: $\(Parallel.environmentVariable).")

        let seconds: Double
        let models: [BuiltInModel]
        let json: Bool

        init(_ arguments: ParsedArguments) throws(UsageError) {
            seconds = try arguments.value(Self.seconds)
            models = try arguments.value(Self.models)
            json = arguments.flag(Self.json)
        }
    }

    static let spec = Options.spec

    struct Result: Encodable {
        var sgemmGFLOPs: Double
        var sgemmSize: Int
        var threads: Int
        var models: [Benchmark.ModelFigures]
        /// Explorer responsiveness on ResNet-50 (224x224): a target change plus a 200x60 frame
        /// (the slower of the overview, sensitivity lines drawn, and the layer view), and a whole greedy walk.
        var explorerFrameMilliseconds: Double
        var selectionWalkMilliseconds: Double
        var explorer: ExplorerBenchmark.Figures
    }

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let (seconds, models, json) = (options.seconds, options.models, options.json)
        if !json { Console.error("measuring cblas_sgemm 1024x1024…") }
        let gemm = Benchmark.sgemmGFLOPs(size: 1024, seconds: seconds / 2)
        var figures: [Benchmark.ModelFigures] = []
        for model in models {
            if !json { Console.error("measuring \(model.rawValue)…") }
            figures.append(try Benchmark.measure(model.architecture(), seconds: seconds))
        }
        if !json { Console.error("measuring the explorer on resnet50…") }
        let explorer = try ExplorerBenchmark.measure(seconds: seconds / 2)
        let result = Result(sgemmGFLOPs: gemm, sgemmSize: 1024, threads: Parallel.workers, models: figures,
                            explorerFrameMilliseconds: max(explorer.overviewFrameMilliseconds, explorer.layerFrameMilliseconds),
                            selectionWalkMilliseconds: explorer.walkMilliseconds, explorer: explorer)
        if json { Console.printJSON(result); return }
        print(String(format: "cblas_sgemm 1024x1024: %.1f GFLOP/s (%d threads)", gemm, Parallel.workers))
        print("model        MACs/img    train img/s  train GFLOP/s  (% of sgemm)  infer img/s  latency ms")
        for f in figures {
            // String(format:) does not pad Swift strings, so the text columns are padded here.
            print(f.model.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + String(repeating: " ", count: max(0, 11 - f.macs.formatted().count)) + f.macs.formatted()
                  + String(format: " %12.0f %14.1f %13.0f%% %12.0f %11.3f",
                         f.trainImagesPerSecond, f.trainGFLOPs,
                         f.trainGFLOPs / gemm * 100, f.inferenceImagesPerSecond, f.latencyMilliseconds))
        }
        print(String(format: "explorer on %@ (%d layers, %d channels): target change + %@ frame: overview with sensitivity lines %.2f ms, layer view %.2f ms (budget %.0f ms); whole greedy walk %.2f ms",
                     explorer.model, explorer.groups, explorer.channels, ExplorerBenchmark.size.description,
                     explorer.overviewFrameMilliseconds, explorer.layerFrameMilliseconds, ExplorerBenchmark.budgetMilliseconds,
                     explorer.walkMilliseconds))
    }
}

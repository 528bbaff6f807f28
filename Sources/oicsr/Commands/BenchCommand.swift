import Engine
import Canvas
import Explorer
import Foundation

enum BenchCommand {
    struct Options {
        static let seconds = Option.number("seconds", placeholder: "S", default: 2, range: 0...3600, lowerOpen: true,
                                           help: "time spent on each measurement")
        static let models = Option<[ModelSource]>(
            name: "models", placeholder: "LIST", summary: "comma-separated models: built-in names, architecture .json files or checkpoints",
            defaultValue: [.builtIn(.convnetS), .builtIn(.resnet20)], defaultDescription: "convnet-s,resnet20", parse: { text throws(UsageError) in
                var models: [ModelSource] = []
                for name in text.split(separator: ",", omittingEmptySubsequences: false) {
                    models.append(try ModelSource(String(name), flag: "--models"))
                }
                return models
            })
        static let phases = Option<Set<Phase>>(
            name: "phases", placeholder: "LIST", summary: "comma-separated measurements: \(Phase.allCases.map(\.rawValue).joined(separator: ", "))",
            defaultValue: Set(Phase.allCases), defaultDescription: "all", parse: { text throws(UsageError) in
                var phases: Set<Phase> = []
                for name in text.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let phase = Phase(rawValue: String(name)) else {
                        throw UsageError(argument: "--phases", problem: "'\(name)' is not a measurement (\(Phase.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    phases.insert(phase)
                }
                return phases
            })
        static let widths = Option<[Int]>(
            name: "widths", placeholder: "LIST", summary: "prunable widths of the one model measured, as pruning leaves them (convnet-s: its five conv widths; a ResNet: every block's inner width)",
            defaultValue: nil, defaultDescription: nil, parse: { text throws(UsageError) in
                var widths: [Int] = []
                for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let width = Int(item), width >= 1 else {
                        throw UsageError(argument: "--widths", problem: "'\(item)' is not a positive integer")
                    }
                    widths.append(width)
                }
                return widths
            })
        static let cpuTime = Flag(name: "cpu-time", help: "time by the process's CPU time, not elapsed time (to compare builds on a loaded machine; with one worker, the work done; with more, it also counts the workers' polling between parts)")
        static let json = Flag(name: "json", help: "print the results as JSON")
        static let spec = CommandSpec(
            name: "bench", summary: "Measure training and inference speed of the reference models, with cblas_sgemm's peak in the same run.",
            usage: "bench [--seconds S] [--models LIST] [--phases LIST] [--widths LIST] [--cpu-time] [--json]",
            options: [seconds.declaration, models.declaration, phases.declaration, widths.declaration, cpuTime.declaration,
                      json.declaration],
            details: "Built-in models take 1x28x28 inputs with 10 classes; a file's model keeps its own input and classes (a PyTorch model exported with python3 -m oicsr_torch export, say). Training: batch 128, one SGD step; inference: batch 256; latency: batch 1.\nThe training GFLOP/s count a step as 3 x forward MACs x 2 flops; the convolution GFLOP/s time each convolution's forward and backward passes alone at batch 128. Workers: $\(Parallel.environmentVariable).")

        let seconds: Double
        let models: [ModelSource]
        let phases: Set<Phase>
        let widths: [Int]?
        let clock: Benchmark.Clock
        let json: Bool

        /// How many widths `BuiltInModel.architecture(widths:)` takes.
        static func prunableWidths(_ model: BuiltInModel) -> Int {
            switch model {
            case .convnetS: return 5
            case .resnet20: return 9
            case .resnet56: return 27
            }
        }

        init(_ arguments: ParsedArguments) throws(UsageError) {
            seconds = try arguments.value(Self.seconds)
            models = try arguments.value(Self.models)
            phases = try arguments.value(Self.phases)
            clock = arguments.flag(Self.cpuTime) ? .cpu : .wall
            widths = try arguments.valueIfAny(Self.widths)
            if let widths {
                guard models.count == 1, case .builtIn(let model) = models[0] else {
                    throw UsageError(argument: "--widths", problem: "give exactly one built-in model in --models")
                }
                let expected = Self.prunableWidths(model)
                guard widths.count == expected else {
                    throw UsageError(argument: "--widths", problem: "\(model.rawValue) has \(expected) prunable widths, found \(widths.count)")
                }
            }
            json = arguments.flag(Self.json)
        }
    }

    static let spec = Options.spec

    /// A measurement of `oicsr bench`: the model figures of `Benchmark`, and the explorer's.
    enum Phase: String, CaseIterable, Sendable {
        case train, inference, latency, convolution, explorer
        var model: Benchmark.Phase? { Benchmark.Phase(rawValue: rawValue) }
    }

    struct Result: Encodable {
        var sgemmGFLOPs: Double
        var sgemmSize: Int
        /// The convolutions' GEMM (`gemm`: avx512 or openblas) on the same square matrices.
        var gemm: String
        var engineGEMMGFLOPs: Double
        var threads: Int
        var models: [Benchmark.ModelFigures]
        /// Explorer responsiveness on ResNet-50 (224x224): a target change plus a 200x60 frame
        /// (the slower of the overview, sensitivity lines drawn, and the layer view), and a whole greedy walk.
        var explorerFrameMilliseconds: Double
        var selectionWalkMilliseconds: Double
        /// Absent when `--phases` leaves the explorer out.
        var explorer: ExplorerBenchmark.Figures?
    }

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let (seconds, models, json) = (options.seconds, options.models, options.json)
        let modelPhases = Set(options.phases.compactMap(\.model))
        if !json { Console.error("measuring cblas_sgemm 1024x1024…") }
        // Timed by the same clock as the models, so their ratios compare like with like.
        let gemm = Benchmark.sgemmGFLOPs(size: 1024, seconds: seconds / 2, clock: options.clock)
        let engineGEMM = Benchmark.engineGEMMGFLOPs(size: 1024, seconds: seconds / 2, clock: options.clock)
        var figures: [Benchmark.ModelFigures] = []
        for source in models {
            let architecture: Architecture
            if case .builtIn(let model) = source {
                architecture = model.architecture(widths: options.widths)
            } else {
                architecture = try source.architecture(input: [1, 28, 28], classes: 10)
            }
            if !json { Console.error("measuring \(architecture.name)…") }
            figures.append(try Benchmark.measure(architecture, seconds: seconds, phases: modelPhases, clock: options.clock))
        }
        var explorer: ExplorerBenchmark.Figures?
        if options.phases.contains(.explorer) {
            if !json { Console.error("measuring the explorer on resnet50…") }
            explorer = try ExplorerBenchmark.measure(seconds: seconds / 2)
        }
        let result = Result(sgemmGFLOPs: gemm, sgemmSize: 1024, gemm: Benchmark.gemmImplementation,
                            engineGEMMGFLOPs: engineGEMM, threads: Parallel.workers, models: figures,
                            explorerFrameMilliseconds: explorer.map { max($0.overviewFrameMilliseconds, $0.layerFrameMilliseconds) } ?? 0,
                            selectionWalkMilliseconds: explorer?.walkMilliseconds ?? 0, explorer: explorer)
        if json { Console.printJSON(result); return }
        print(String(format: "cblas_sgemm 1024x1024: %.1f GFLOP/s (%d threads); the convolutions' GEMM (%@): %.1f GFLOP/s",
                     gemm, Parallel.workers, Benchmark.gemmImplementation, engineGEMM))
        print("model        MACs/img    train img/s  train GFLOP/s  (% of sgemm)  infer img/s  latency ms  conv GFLOP/s (% of sgemm)")
        // String(format:) does not pad Swift strings, so the columns are padded here; a
        // figure of a phase `--phases` left out is a dash, not a zero.
        func column(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - text.count)) + text
        }
        func figure(_ phase: Benchmark.Phase, _ format: String, _ value: Double, _ width: Int) -> String {
            column(modelPhases.contains(phase) ? String(format: format, value) : "-", width)
        }
        for f in figures {
            print(f.model.padding(toLength: 10, withPad: " ", startingAt: 0) + column(f.macs.formatted(), 11)
                  + figure(.train, "%.0f", f.trainImagesPerSecond, 13)
                  + figure(.train, "%.1f", f.trainGFLOPs, 15)
                  + figure(.train, "%.0f%%", f.trainGFLOPs / gemm * 100, 15)
                  + figure(.inference, "%.0f", f.inferenceImagesPerSecond, 13)
                  + figure(.latency, "%.3f", f.latencyMilliseconds, 12)
                  + figure(.convolution, "%.1f", f.convolutionGFLOPs, 14)
                  + figure(.convolution, "%.0f%%", f.convolutionGFLOPs / gemm * 100, 12))
        }
        guard let explorer else { return }
        print(String(format: "explorer on %@ (%d layers, %d channels): target change + %@ frame: overview with sensitivity lines %.2f ms, layer view %.2f ms (budget %.0f ms); whole greedy walk %.2f ms",
                     explorer.model, explorer.groups, explorer.channels, ExplorerBenchmark.size.description,
                     explorer.overviewFrameMilliseconds, explorer.layerFrameMilliseconds, ExplorerBenchmark.budgetMilliseconds,
                     explorer.walkMilliseconds))
    }
}

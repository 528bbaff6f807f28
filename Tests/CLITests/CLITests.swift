import Foundation
import Testing
import Engine
import Pruning

// The command line as a user meets it: the real binary, real files, exit statuses and the
// one-line messages for bad input. Data sets are tiny IDX files written here, and the model
// a small architecture file, so every run takes a moment.

struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    /// The oicsr binary next to the test bundle (both are build products), unless
    /// OICSR_BINARY names another.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["OICSR_BINARY"] { return path }
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return products.appendingPathComponent("oicsr").path
    }

    static func start(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    @discardableResult
    static func run(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws -> Run {
        let (process, out, err) = try start(arguments, in: folder, environment: environment)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// A temporary folder with a tiny Fashion-MNIST-shaped data set and a small architecture.
struct Workspace {
    let folder: URL
    var data: URL { folder.appendingPathComponent("data") }

    init(trainImages: Int = 240, testImages: Int = 60) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("oicsr-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Self.writeIDX(count: trainImages, seed: 1, prefix: data.appendingPathComponent("train").path)
        try Self.writeIDX(count: testImages, seed: 2, prefix: data.appendingPathComponent("t10k").path)
        try Data(Self.tinyArchitecture.utf8).write(to: folder.appendingPathComponent("tiny.json"))
    }

    static let tinyArchitecture = """
        {"name": "tiny", "input": [1, 28, 28], "classes": 10, "layers": [
          {"name": "conv1", "kind": "conv2d", "out": 6, "kernel": 3, "padding": 1},
          {"name": "bn1", "kind": "batchnorm"}, {"name": "relu1", "kind": "relu"},
          {"name": "pool1", "kind": "maxpool", "kernel": 4},
          {"name": "conv2", "kind": "conv2d", "out": 8, "kernel": 3, "padding": 1},
          {"name": "bn2", "kind": "batchnorm"}, {"name": "relu2", "kind": "relu"},
          {"name": "gap", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 10}]}
        """

    /// Images whose class is readable from where a bright bar lies, in raw IDX format.
    static func writeIDX(count: Int, seed: UInt64, prefix: String) throws {
        var generator = SeededGenerator(seed: seed)
        var images: [UInt8] = [0, 0, 8, 3] + bigEndian(count) + bigEndian(28) + bigEndian(28)
        var labels: [UInt8] = [0, 0, 8, 1] + bigEndian(count)
        for n in 0..<count {
            let label = n % 10
            labels.append(UInt8(label))
            for y in 0..<28 { for x in 0..<28 {
                let bright = y / 3 == label || (x / 3 == label && label % 2 == 0)
                images.append(UInt8(min(255, (bright ? 180 : 20) + generator.nextIndex(below: 60))))
            } }
        }
        try Data(images).write(to: URL(fileURLWithPath: prefix + "-images-idx3-ubyte"))
        try Data(labels).write(to: URL(fileURLWithPath: prefix + "-labels-idx1-ubyte"))
    }

    static func bigEndian(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    @discardableResult
    func oicsr(_ arguments: String...) throws -> Run { try CLI.run(arguments, in: folder) }
    func oicsr(_ arguments: [String]) throws -> Run { try CLI.run(arguments, in: folder) }

    /// Trains the tiny model into `name`.
    func train(_ name: String = "tiny.safetensors", extra: [String] = []) throws -> Run {
        try CLI.run(["train", "--model", "tiny.json", "--data", data.path, "--epochs", "2", "--batch-size", "32", "--out", name] + extra,
                    in: folder)
    }
}

@Suite("Command line")
struct CLITests {
    /// Bad input: one line on stderr naming the argument or file, exit status 2, no output file.
    static func expectRejected(_ run: Run, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 2, "exit status \(run.status); stderr: \(run.stderr)", sourceLocation: sourceLocation)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line on stderr, got: \(run.stderr)", sourceLocation: sourceLocation)
        for word in words {
            #expect(run.stderr.contains(word), "stderr names \(word): \(run.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test func trainRejectsBadArguments() throws {
        let w = try Workspace()
        Self.expectRejected(try w.oicsr("train", "--epochs", "0"), mentioning: ["--epochs", "at least 1"])
        Self.expectRejected(try w.oicsr("train", "--batch-size", "-3"), mentioning: ["--batch-size"])
        Self.expectRejected(try w.oicsr("train", "--lr", "0"), mentioning: ["--lr", "above 0"])
        Self.expectRejected(try w.oicsr("train", "--lr", "fast"), mentioning: ["--lr", "not a number"])
        Self.expectRejected(try w.oicsr("train", "--model", "vgg99"), mentioning: ["--model", "vgg99"])
        Self.expectRejected(try w.oicsr("train", "--frobnicate"), mentioning: ["--frobnicate", "unknown option"])
        Self.expectRejected(try w.oicsr("train", "--reg", "l3"), mentioning: ["--reg", "l3"])
        Self.expectRejected(try w.oicsr("frobnicate"), mentioning: ["frobnicate", "unknown command"])
        #expect(!FileManager.default.fileExists(atPath: w.path("convnet-s.safetensors")))
    }

    @Test func badDataIsNamed() throws {
        let w = try Workspace()
        Self.expectRejected(try w.oicsr("train", "--model", "tiny.json", "--data", w.path("nowhere")), mentioning: ["nowhere"])
        let images = w.data.appendingPathComponent("train-images-idx3-ubyte")
        let bytes = try Data(contentsOf: images)
        try bytes.prefix(bytes.count / 2).write(to: images)
        Self.expectRejected(try w.oicsr("train", "--model", "tiny.json", "--data", w.data.path), mentioning: ["train-images-idx3-ubyte", "truncated"])
    }

    @Test func trainEvalInfoAndJSON() throws {
        let w = try Workspace()
        let trained = try w.train(extra: ["--json"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(trained.stdout.utf8)) as? [String: Any]
        let test = result?["test"] as? [String: Any]
        #expect((test?["top1"] as? Double).map { $0 > 0.2 } == true, "the tiny model learns something: \(trained.stdout)")
        #expect(!trained.stderr.contains("\u{1B}"), "no escape codes when stderr is not a terminal")

        let evaluated = try w.oicsr("eval", "tiny.safetensors", "--data", w.data.path, "--json")
        #expect(evaluated.status == 0)
        let evaluation = (try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])?["evaluation"] as? [String: Any]
        #expect(evaluation?["top1"] as? Double == test?["top1"] as? Double, "eval agrees with the end of training")

        let info = try w.oicsr("info", "tiny.safetensors")
        #expect(info.status == 0 && info.stdout.contains("conv2") && info.stdout.contains("total"))
        Self.expectRejected(try w.train(), mentioning: ["--out", "exists"])
    }

    @Test func checkpointProblemsAreNamed() throws {
        let w = try Workspace()
        Self.expectRejected(try w.oicsr("eval", "missing.safetensors", "--data", w.data.path), mentioning: ["missing.safetensors"])
        try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: w.path("junk.safetensors")))
        Self.expectRejected(try w.oicsr("eval", "junk.safetensors", "--data", w.data.path), mentioning: ["junk.safetensors"])
        #expect(try w.train().status == 0)
        // Tensors that do not fit the architecture in the metadata.
        var file = try SafeTensorsFile.read(path: w.path("tiny.safetensors"))
        let i = file.tensors.firstIndex { $0.name == "conv2.weight" }!
        file.tensors[i] = .init(name: "conv2.weight", shape: [8, 5, 3, 3], values: [Float](repeating: 0, count: 360))
        try file.write(path: w.path("misfit.safetensors"))
        Self.expectRejected(try w.oicsr("eval", "misfit.safetensors", "--data", w.data.path), mentioning: ["misfit.safetensors", "conv2.weight"])
    }

    /// Ctrl-C keeps the last whole checkpoint, and --resume ends where an uninterrupted run ends.
    @Test func interruptThenResume() throws {
        let w = try Workspace(trainImages: 3000, testImages: 60)
        let arguments = ["train", "--model", "tiny.json", "--data", w.data.path, "--epochs", "4", "--batch-size", "16"]
        let (process, _, errors) = try CLI.start(arguments + ["--out", "run.safetensors"], in: w.folder)
        let state = w.path("run.safetensors.state")
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: state) && Date() < deadline && process.isRunning { usleep(20_000) }
        process.interrupt()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(message)")
        #expect(message.contains("--resume"))
        let saved = try Checkpoint.load(path: w.path("run.safetensors")).1
        let completed = try saved.recipe(file: "run.safetensors").training?.epochsCompleted ?? 0
        #expect(completed >= 1 && completed < 4, "an interrupted run holds a whole epoch")

        let resumed = try CLI.run(arguments + ["--out", "run.safetensors", "--resume", "--json"], in: w.folder)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let straight = try CLI.run(arguments + ["--out", "straight.safetensors", "--json"], in: w.folder)
        #expect(straight.status == 0)
        let a = try SafeTensorsFile.read(path: w.path("run.safetensors")).tensors
        let b = try SafeTensorsFile.read(path: w.path("straight.safetensors")).tensors
        #expect(a == b, "resuming gives the weights of the uninterrupted run")
    }

    @Test func pruneDryRunAndBadTargets() throws {
        let w = try Workspace()
        #expect(try w.train().status == 0)
        let dry = try w.oicsr("prune", "tiny.safetensors", "--flops", "0.3", "--calibrate", "0", "--dry-run", "--json")
        #expect(dry.status == 0, "\(dry.stderr)")
        let plan = try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any]
        #expect((plan?["removedShare"] as? Double).map { $0 >= 0.3 } == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.folder.path).filter { $0.hasSuffix(".safetensors") } == ["tiny.safetensors"])

        Self.expectRejected(try w.oicsr("prune", "tiny.safetensors", "--flops", "1.5", "--out", "p.safetensors"), mentioning: ["--flops"])
        Self.expectRejected(try w.oicsr("prune", "tiny.safetensors", "--flops", "0", "--out", "p.safetensors"), mentioning: ["--flops"])
        Self.expectRejected(try w.oicsr("prune", "tiny.safetensors", "--flops", "0.6", "--cap", "0.1", "--out", "p.safetensors"),
                            mentioning: ["--flops", "stops at"])
        Self.expectRejected(try w.oicsr("prune", "tiny.safetensors", "--flops", "0.3", "--out", "tiny.safetensors"),
                            mentioning: ["--out", "source model"])
        #expect(!FileManager.default.fileExists(atPath: w.path("p.safetensors")))

        var file = try SafeTensorsFile.read(path: w.path("tiny.safetensors"))
        file.tensors.removeAll { $0.name.hasPrefix("bn1.running") }
        try file.write(path: w.path("nostats.safetensors"))
        Self.expectRejected(try w.oicsr("prune", "nostats.safetensors", "--flops", "0.3", "--out", "p.safetensors"),
                            mentioning: ["nostats.safetensors", "bn1.running_mean"])
    }

    @Test func pruneWritesASmallerModelThatEvaluates() throws {
        let w = try Workspace()
        #expect(try w.train(extra: ["--reg", "oicsr-gl", "--lambda", "0.001"]).status == 0)
        let pruned = try w.oicsr("prune", "tiny.safetensors", "--flops", "0.3", "--data", w.data.path, "--finetune-epochs", "1",
                                 "--bn-recalibrate", "100", "--out", "small.safetensors", "--json")
        #expect(pruned.status == 0, "\(pruned.stderr)")
        let (model, info) = try Checkpoint.load(path: w.path("small.safetensors"))
        #expect(model.graph.cost.macs < (try Checkpoint.load(path: w.path("tiny.safetensors")).0.graph.cost.macs) * 7 / 10 + 1)
        let recipe = try info.recipe(file: "small.safetensors")
        #expect(recipe.regularizer.kind == .oicsrGL && recipe.regularizer.lambda == 0.001)
        #expect(recipe.pruning?.source == "tiny.safetensors" && recipe.pruning?.metric == .flops && recipe.pruning?.target == 0.3)
        let keptChannels: Int = recipe.pruning?.kept.values.reduce(0) { $0 + $1.count } ?? -1
        let convWidths: Int = model.architecture.layers.filter { $0.kind == .conv2d }.reduce(0) { $0 + $1.outChannels! }
        #expect(keptChannels == convWidths)
        #expect(recipe.fineTuning?.epochs == 1 && recipe.batchNormReestimation == 100 && recipe.training?.epochs != nil)
        // OICSR-GL fixes the criterion: the normalisation was chosen among six, each with and
        // without compensation, on the last 10000 training images, here all 240 of them.
        #expect(recipe.pruning?.calibration == Recipe.PruningRun.Calibration(examples: 240, candidates: 2 * EnergyNormalization.allCases.count))
        #expect(try w.oicsr("eval", "small.safetensors", "--data", w.data.path).status == 0)
    }

    @Test func pruneChoosesItsRankingOnHeldOutImages() throws {
        let w = try Workspace()
        #expect(try w.train().status == 0)
        func plan(_ extra: String...) throws -> [String: Any] {
            let run = try w.oicsr(["prune", "tiny.safetensors", "--flops", "0.3", "--data", w.data.path, "--dry-run", "--json"] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        }
        // An L2 model leaves the criterion open: two criteria under every normalisation, each
        // with and without compensation.
        let calibrated = try plan("--calibrate", "50")
        let report = try #require(calibrated["calibration"] as? [String: Any])
        let candidates = try #require(report["candidates"] as? [[String: Any]])
        #expect(report["examples"] as? Int == 50 && candidates.count == 2 * 2 * EnergyNormalization.allCases.count)
        #expect(candidates.allSatisfy { $0["examples"] as? Int == 50 }, "fewer images than the screening: all on each")
        let top1 = candidates.map { $0["top1"] as? Double ?? -1 }
        let chosen = try #require(candidates.first {
            ($0["ranking"] as? [String: String]) == ["criterion": calibrated["criterion"] as? String ?? "",
                                                     "normalization": calibrated["normalization"] as? String ?? ""]
                && $0["compensated"] as? Bool == calibrated["compensated"] as? Bool
        })
        #expect(chosen["top1"] as? Double == top1.max(), "the chosen candidate keeps the most on the held-out images")

        func count(_ plan: [String: Any]) -> Int? { (plan["calibration"] as? [String: Any])?["candidates"].flatMap { ($0 as? [Any])?.count } }
        let given = try plan("--criterion", "out", "--normalization", "lamp", "--compensate", "off")
        #expect(given["calibration"] == nil && given["criterion"] as? String == "out" && given["normalization"] as? String == "lamp")
        #expect(given["compensated"] as? Bool == false)
        #expect(count(try plan("--criterion", "out", "--normalization", "lamp", "--calibrate", "50")) == 2, "only compensation is open")
        #expect(count(try plan("--normalization", "lamp", "--compensate", "on", "--calibrate", "50")) == 2, "only the criterion is open")
        let off = try plan("--calibrate", "0")
        #expect(off["calibration"] == nil && off["criterion"] as? String == "out-in" && off["normalization"] as? String == "raw")
        #expect(off["compensated"] as? Bool == CompensationChoice.uncalibrated)
        let bad = try w.oicsr("prune", "tiny.safetensors", "--flops", "0.3", "--compensate", "maybe", "--dry-run")
        #expect(bad.status == 2 && bad.stderr.contains("--compensate") && bad.stderr.contains("'maybe'"), "\(bad.stderr)")
    }

    @Test func trainingReportsThePenalty() throws {
        let w = try Workspace()
        let trained = try w.train(extra: ["--reg", "oicsr-gl", "--lambda", "0.01", "--reg-step", "subgradient", "--json"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(trained.stdout.utf8)) as? [String: Any])
        let regularizer = result["regularizer"] as? [String: Any]
        #expect(regularizer?["kind"] as? String == "oicsr-gl" && regularizer?["step"] as? String == "subgradient")
        let epochs = try #require(result["epochs"] as? [[String: Any]])
        #expect(epochs.count == 2 && epochs.allSatisfy { ($0["penalty"] as? Double).map { $0 > 0 } == true }, "\(trained.stdout)")

        let logged = try w.train("log.safetensors", extra: ["--reg", "gl", "--lambda", "0.01"])
        #expect(logged.stderr.contains("gl penalty"), "the epoch line reports the penalty: \(logged.stderr)")
        let plain = try w.train("plain.safetensors", extra: ["--json"])
        let epochs2 = (try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])?["epochs"] as? [[String: Any]]
        #expect(epochs2?.allSatisfy { $0["penalty"] as? Double == 0 } == true, "weight decay alone reports no penalty")
    }

    @Test func studyPagesFromAResultsFile() throws {
        // `study --render` writes the pages from a results file: the decomposition of OICSR-GL's
        // lead, the λ sweep and the default selection's evidence. (A whole study trains dozens
        // of models; docs/oicsr-study.md is its output.)
        let w = try Workspace()
        let variants = ["l2", "gl/subgradient", "gl/proximal", "oicsr-gl/subgradient", "oicsr-gl/proximal", "l1-bn/proximal"]
        let top1 = ["l2": 0.3, "gl/subgradient": 0.35, "gl/proximal": 0.4, "oicsr-gl/subgradient": 0.5, "oicsr-gl/proximal": 0.7, "l1-bn/proximal": 0.6]
        var points: [[String: Any]] = [], sweep: [[String: Any]] = [], selection: [[String: Any]] = []
        for v in variants {
            for t in [0.3, 0.5] { points.append(["architecture": "convnet-s", "variant": v, "target": t, "macsRemoved": t, "prunedTop1": top1[v]! - t / 10]) }
            sweep.append(["architecture": "convnet-s", "variant": v, "lambda": 0.1, "trainLoss": 0.5, "trainPenalty": 1.0, "validationDenseTop1": 0.8,
                          "validationPrunedTop1": top1[v]!, "bestSelection": "out-in/layer-mean", "seconds": 1])
            for n in ["raw", "layer-mean"] {
                selection.append(["architecture": "convnet-s", "model": "convnet-s \(v) late", "variant": v, "lambda": 0.1, "stage": "late",
                                  "criterion": v.hasPrefix("l1-bn") ? "bn-scale" : (v.hasPrefix("oicsr") ? "out-in" : "out"), "normalization": n,
                                  "target": 0.5, "macsRemoved": 0.5, "validationTop1": top1[v]! + (n == "raw" ? 0 : 0.01)])
            }
        }
        let report: [String: Any] = [
            "dataset": "fashion-mnist", "epochs": 2, "trainExamples": 8000, "validationExamples": 2000, "testExamples": 10000,
            "architectures": ["convnet-s"], "cache": "models", "coupled": ["convnet-s": false], "checkpoints": ["convnet-s": [String: String]()],
            "sweep": sweep, "lambda": ["convnet-s": Dictionary(uniqueKeysWithValues: variants.map { ($0, 0.1) })], "selection": selection,
            "defaultSelection": ["normalization": "layer-mean", "l2Criterion": "out", "glCriterion": "out"], "denseTop1": ["convnet-s": Dictionary(uniqueKeysWithValues: variants.map { ($0, 0.8) })],
            "points": points, "finetune": [[String: Any]](), "seconds": 60]
        try JSONSerialization.data(withJSONObject: report).write(to: URL(fileURLWithPath: w.path("results.json")))
        let rendered = try w.oicsr("study", "--render", "results.json", "--out", "pages")
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let page = try String(contentsOfFile: w.path("pages/oicsr-study.md"), encoding: .utf8)
        // Mean over 30–50%: OICSR prox − GL subgrad = (0.7 − 0.35) = 35 points; group first: 15 + 20.
        #expect(page.contains("keeps +35.00 points more than GL trained by the paper's subgradient"), "\(page)")
        #expect(page.contains("+15.00 comes from the out-in group (both by subgradient) and +20.00 from the proximal step"))
        let choice = try String(contentsOfFile: w.path("pages/selection.md"), encoding: .utf8)
        #expect(choice.contains("By this rule the default is **layer-mean**"), "\(choice)")
        #expect(FileManager.default.fileExists(atPath: w.path("pages/oicsr-study-convnet-s.svg")))
    }

    @Test func modelWithoutPrunableChannels() throws {
        let w = try Workspace()
        try Data(#"{"name": "flat", "input": [1, 28, 28], "classes": 10, "layers": [{"name": "flatten", "kind": "flatten"}, {"name": "fc", "kind": "linear", "out": 10}]}"#.utf8)
            .write(to: URL(fileURLWithPath: w.path("flat.json")))
        #expect(try CLI.run(["train", "--model", "flat.json", "--data", w.data.path, "--epochs", "1", "--out", "flat.safetensors"], in: w.folder).status == 0)
        Self.expectRejected(try w.oicsr("prune", "flat.safetensors", "--flops", "0.3", "--out", "p.safetensors"),
                            mentioning: ["flat.safetensors", "no prunable channel"])
    }

    @Test func groupsAndEnergies() throws {
        let w = try Workspace()
        let groups = try w.oicsr("groups", "resnet20", "--coupled", "--json")
        #expect(groups.status == 0)
        let listed = (try JSONSerialization.jsonObject(with: Data(groups.stdout.utf8)) as? [String: Any])?["groups"] as? [[String: Any]]
        #expect(listed?.count == 12)
        #expect(try w.train().status == 0)
        let csv = try w.oicsr("energies", "tiny.safetensors", "--csv")
        #expect(csv.status == 0)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "group,channel,raw,per-weight,layer-mean,layer-share,lamp,mean-per-mac,rank")
        #expect(lines.count == 1 + 6 + 8)
        Self.expectRejected(try w.oicsr("energies", "resnet20"), mentioning: ["resnet20", "trained checkpoint"])
    }
}

import Foundation
import Testing
import Engine
import Pruning

// Typed options: every target metric by its own option, multi-round schedules, validation
// before any work, options given twice or without their value, and `predict`.

@Suite("Command-line options")
struct OptionTests {
    @Test func everyTargetMetricHasItsOption() throws {
        let w = try Workspace()
        #expect(try w.train().status == 0)
        for (option, key) in [("--params", "parameters"), ("--channels", "channels"), ("--flops", "macs")] {
            // The default ranking: a calibration on the default data's 10000 images would take
            // most of the suite's time and is tested on its own (CLITests).
            let run = try w.oicsr("prune", "tiny.safetensors", option, "0.3", "--calibrate", "0", "--dry-run", "--json")
            #expect(run.status == 0, "\(option): \(run.stderr)")
            let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let before = try #require((result["before"] as? [String: Any])?[key] as? Int)
            let after = try #require((result["after"] as? [String: Any])?[key] as? Int)
            #expect(Double(after) <= Double(before) * 0.7 + 1e-9, "\(option) removes at least 30% of \(key)")
            #expect(Double(after) > Double(before) * 0.4, "\(option) stops near its target")
        }
        CLITests.expectRejected(try w.oicsr("prune", "tiny.safetensors", "--params", "0.3", "--channels", "0.3", "--dry-run"),
                                mentioning: ["only one of --flops, --params, --channels"])
    }

    @Test func severalRoundsReachTheTargetAndRecordTheKeptChannels() throws {
        let w = try Workspace()
        #expect(try w.train(extra: ["--reg", "oicsr-gl", "--lambda", "0.001"]).status == 0)
        let run = try w.oicsr("prune", "tiny.safetensors", "--flops", "0.4", "--steps", "2", "--finetune-epochs", "1",
                              "--data", w.data.path, "--out", "rounds.safetensors", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((result["removedShare"] as? Double).map { $0 >= 0.4 } == true)
        #expect(result["finetunedTop1"] != nil)
        let (model, info) = try Checkpoint.load(path: w.path("rounds.safetensors"))
        let recipe = try info.recipe(file: "rounds.safetensors")
        #expect(recipe.pruning?.rounds == 2 && recipe.fineTuning?.epochs == 2)
        // The kept channels are indices of the source model, composed over both rounds.
        let source = try Checkpoint.load(path: w.path("tiny.safetensors")).0
        for (name, kept) in recipe.pruning!.kept {
            let width = try #require(model.architecture.layers.first { $0.name == name }?.outChannels)
            let original = try #require(source.architecture.layers.first { $0.name == name }?.outChannels)
            #expect(kept.count == width && kept.allSatisfy { (0..<original).contains($0) } && kept == kept.sorted())
        }
        #expect(model.graph.cost.macs <= source.graph.cost.macs * 6 / 10 + 1)
    }

    @Test func fineTuningOptionsAreCheckedBeforeAnyWork() throws {
        let w = try Workspace()
        #expect(try w.train().status == 0)
        for (option, value) in [("--lr", "-1"), ("--lr", "fast"), ("--seed", "-2"), ("--steps", "0"), ("--bn-recalibrate", "x")] {
            let started = Date()
            let run = try w.oicsr("prune", "tiny.safetensors", "--flops", "0.3", "--data", w.data.path, "--finetune-epochs", "1",
                                  option, value, "--out", "p.safetensors")
            CLITests.expectRejected(run, mentioning: [option])
            #expect(!run.stderr.contains("evaluating"), "rejected before the dense model is evaluated")
            #expect(Date().timeIntervalSince(started) < 5)
        }
        #expect(!FileManager.default.fileExists(atPath: w.path("p.safetensors")))
    }

    @Test func anOptionGivenTwiceOrWithoutItsValueIsRefused() throws {
        let w = try Workspace()
        CLITests.expectRejected(try w.oicsr("train", "--epochs", "1", "--epochs", "2"), mentioning: ["--epochs", "twice"])
        CLITests.expectRejected(try w.oicsr("train", "--model", "tiny.json", "--out", "--force"), mentioning: ["--out", "needs a value"])
        #expect(!FileManager.default.fileExists(atPath: w.path("--force")))
        CLITests.expectRejected(try w.oicsr("prune", "x.safetensors", "--flops"), mentioning: ["--flops", "needs a value"])
        CLITests.expectRejected(try CLI.run(["info"], in: w.folder, environment: ["OICSR_THREADS": "zero"]), mentioning: ["OICSR_THREADS"])
    }

    @Test func helpShowsTheDefaultsTheCodeUses() throws {
        let w = try Workspace()
        let train = try w.oicsr("train", "--help")
        #expect(train.status == 0)
        #expect(train.stdout.contains("--reg-step KIND") && train.stdout.contains("(default proximal)"))
        #expect(train.stdout.contains("l2, gl, oicsr-gl, l1-bn"))
        // Float defaults print as written, not as the Doubles they widen to (0.05000000074505806).
        for line in ["base learning rate (default 0.05)", "SGD momentum (default 0.9)", "L2 weight decay (default 0.0005)"] {
            #expect(train.stdout.contains(line), "\(line)\n\(train.stdout)")
        }
        let prune = try w.oicsr("prune", "--help")
        #expect(prune.stdout.contains("--params SHARE") && prune.stdout.contains("--normalization KIND"))
        #expect(prune.stdout.contains("--calibrate N") && prune.stdout.contains("else \(EnergyNormalization.standard.rawValue))"),
                "the normalisation is calibrated, else the standard one: \(prune.stdout)")
    }

    @Test func predictWritesTheLogitsOfInputTensors() throws {
        let w = try Workspace()
        #expect(try w.train().status == 0)
        let (model, _) = try Checkpoint.load(path: w.path("tiny.safetensors"))
        // Two images in PyTorch's layout (N, C, H, W).
        var values: [Float] = []
        for i in 0..<(2 * 28 * 28) { values.append(Float(i % 97) / 50 - 1) }
        try SafeTensorsFile(tensors: [.init(name: "input", shape: [2, 1, 28, 28], values: values)]).write(path: w.path("x.safetensors"))
        let run = try w.oicsr("predict", "tiny.safetensors", "--input", "x.safetensors", "--out", "y.safetensors")
        #expect(run.status == 0, "\(run.stderr)")
        let logits = try #require(try SafeTensorsFile.read(path: w.path("y.safetensors"))["logits"])
        #expect(logits.shape == [2, 10])
        let expected = model.forward(Tensor(shape: [2, 28, 28, 1], values: values), training: false).values
        #expect(zip(logits.values, expected).allSatisfy { abs($0 - $1) < 1e-5 })
        CLITests.expectRejected(try w.oicsr("predict", "tiny.safetensors", "--input", "tiny.safetensors", "--out", "z.safetensors"),
                                mentioning: ["--input", "'input'"])
    }

    @Test func benchMeasuresAModelFromAFile() throws {
        // A user's own model (an architecture file or a checkpoint, as the bridge exports it)
        // is measured at its own input and classes; --widths stays with the built-ins.
        let w = try Workspace()
        let json = #"{"name": "rgb-net", "input": [3, 16, 16], "classes": 7, "layers": ["#
            + #"{"name": "conv1", "kind": "conv2d", "out": 8, "kernel": 3, "padding": 1}, {"name": "relu1", "kind": "relu"}, "#
            + #"{"name": "flatten", "kind": "flatten"}, {"name": "fc", "kind": "linear", "out": 7}]}"#
        try Data(json.utf8).write(to: URL(fileURLWithPath: w.path("rgb.json")))
        let run = try w.oicsr("bench", "--models", "rgb.json", "--phases", "latency", "--seconds", "0.01", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let models = result?["models"] as? [[String: Any]]
        #expect(models?.first?["model"] as? String == "rgb-net")
        // 3·3·3 MACs per output of 8 channels on 16x16, and 2048·7 for the linear layer.
        #expect(models?.first?["macs"] as? Int == 3 * 3 * 3 * 8 * 16 * 16 + 8 * 16 * 16 * 7)
        // As text, the phases left out are dashes: a zero would read as a measurement.
        let text = try w.oicsr("bench", "--models", "rgb.json", "--phases", "latency", "--seconds", "0.01")
        let row = text.stdout.split(separator: "\n").first { $0.hasPrefix("rgb-net") }?.split(separator: " ") ?? []
        #expect(row.count == 9 && row.filter { $0 == "-" }.count == 6, "\(text.stdout)")
        #expect(Double(row.count == 9 ? row[6] : "") ?? 0 > 0, "latency: \(text.stdout)")
        CLITests.expectRejected(try w.oicsr("bench", "--models", "rgb.json", "--widths", "4"), mentioning: ["--widths", "built-in"])
        CLITests.expectRejected(try w.oicsr("bench", "--models", "nothing-here"), mentioning: ["--models", "nothing-here"])
    }
}

import Foundation
import Testing
import TestSupport
@testable import Engine

@Suite("Model checkpoints")
struct CheckpointTests {
    static func temporaryPath(_ name: String) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oicsr-checkpoint-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }

    static func info(_ architecture: Architecture) -> CheckpointInfo {
        CheckpointInfo(architecture: architecture, normalization: Normalization(mean: [0.286], std: [0.353]),
                       dataset: "fashion-mnist", classNames: (0..<10).map(String.init), metrics: ["top1": 0.9, "loss": .nan],
                       recipeMetadata: ["oicsr.recipe": #"{"regularizer": {"kind": "oicsr-gl"}}"#])
    }

    /// A model whose BatchNorm statistics are not the defaults, so a lost buffer shows.
    static func trainedModel(_ builtIn: BuiltInModel) throws -> Model {
        let model = try Model(architecture: builtIn.architecture(), seed: 5)
        model.forward(Fixtures.random([4, 28, 28, 1], seed: 1), training: true)
        return model
    }

    @Test("save then load gives bit-identical logits", arguments: [BuiltInModel.convnetS, .resnet20])
    func roundTrip(builtIn: BuiltInModel) throws {
        let model = try Self.trainedModel(builtIn)
        let path = Self.temporaryPath("m.safetensors")
        try Checkpoint.save(model, info: Self.info(model.architecture), to: path)
        let (loaded, info) = try Checkpoint.load(path: path)
        var expected = Self.info(model.architecture)
        #expect(info.metrics["loss"]?.isNaN == true, "a diverged loss is written and read back as NaN")
        expected.metrics["loss"] = nil
        var read = info
        read.metrics["loss"] = nil
        #expect(read == expected)
        let images = Fixtures.random([3, 28, 28, 1], seed: 2)
        let before = model.forward(images, training: false).values
        let after = loaded.forward(images, training: false).values
        #expect(before == after)
    }

    @Test func tensorNamesAndLayoutsArePyTorchs() throws {
        let model = try Self.trainedModel(.convnetS)
        let file = Checkpoint.file(for: model, info: Self.info(model.architecture))
        var expected: [String] = []
        for i in 1...5 {
            expected += ["conv\(i).weight", "bn\(i).weight", "bn\(i).bias", "bn\(i).running_mean", "bn\(i).running_var"]
        }
        expected += ["fc.weight", "fc.bias"]
        #expect(file.tensors.map(\.name) == expected)
        #expect(file["conv2.weight"]?.shape == [32, 32, 3, 3])
        // (out, in, kh, kw) element [3, 5, 1, 2] is the engine's (out, kh, kw, in) [3, 1, 2, 5].
        let engine = model.parameter(named: "conv2.weight")!.value
        #expect(file["conv2.weight"]!.values[((3 * 32 + 5) * 3 + 1) * 3 + 2] == engine[((3 * 3 + 1) * 3 + 2) * 32 + 5])
    }

    @Test func residualNamesFollowTheReferenceModule() throws {
        let model = try Model(architecture: BuiltInModel.resnet20.architecture())
        let names = Set(Checkpoint.file(for: model, info: Self.info(model.architecture)).tensors.map(\.name))
        // torch_models.CifarResNet(blocks=3).state_dict() without num_batches_tracked: the stem
        // conv+BN (5 tensors), 9 blocks of two conv+BN pairs (10), 2 projection shortcuts (5), fc (2).
        #expect(names.count == 5 + 9 * 10 + 2 * 5 + 2)
        for name in ["conv1.weight", "bn1.running_var", "layer1.2.conv2.weight", "layer2.0.shortcut.0.weight",
                     "layer2.0.shortcut.1.running_mean", "layer3.0.shortcut.1.bias", "layer3.2.bn2.weight", "fc.bias"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(!names.contains("layer1.0.shortcut.0.weight"), "identity shortcuts have no tensors")
    }

    // MARK: Corruption: each kind gets one clear message naming the file.

    static func corrupted(_ edit: (inout SafeTensorsFile) -> Void) throws -> String {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture())
        var file = Checkpoint.file(for: model, info: Self.info(model.architecture))
        edit(&file)
        let path = Self.temporaryPath("bad.safetensors")
        try file.write(path: path)
        do {
            _ = try Checkpoint.load(path: path)
        } catch let error as CheckpointError {
            #expect(error.file == path)
            return error.problem
        }
        Issue.record("a corrupted checkpoint loaded")
        return ""
    }

    @Test func missingTensor() throws {
        #expect(try Self.corrupted { $0.tensors.removeAll { $0.name == "bn3.running_var" } } == "tensor 'bn3.running_var' is missing")
    }

    @Test func tensorsNotFittingTheArchitecture() throws {
        let problem = try Self.corrupted { file in
            let i = file.tensors.firstIndex { $0.name == "conv3.weight" }!
            file.tensors[i] = .init(name: "conv3.weight", shape: [64, 16, 3, 3], values: [Float](repeating: 0, count: 64 * 16 * 9))
        }
        #expect(problem.contains("'conv3.weight' has shape [64, 16, 3, 3], the architecture needs [64, 32, 3, 3]"))
    }

    @Test func unknownTensor() throws {
        let problem = try Self.corrupted { $0.tensors.append(.init(name: "conv9.weight", shape: [1], values: [0])) }
        #expect(problem.contains("'conv9.weight' is not part of the architecture"))
    }

    @Test func pytorchsBatchCounterIsAccepted() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture())
        var file = Checkpoint.file(for: model, info: Self.info(model.architecture))
        file.tensors.append(.init(name: "bn1.num_batches_tracked", shape: [], values: [100]))
        let path = Self.temporaryPath("torch.safetensors")
        try file.write(path: path)
        _ = try Checkpoint.load(path: path)
    }

    @Test func missingMetadata() throws {
        #expect(try Self.corrupted { $0.metadata["oicsr.architecture"] = nil }.contains("metadata 'oicsr.architecture' is missing"))
        #expect(try Self.corrupted { $0.metadata["oicsr.normalization"] = "{}" }.contains("'oicsr.normalization' is not valid"))
    }

    @Test func brokenArchitectureInMetadata() throws {
        let problem = try Self.corrupted { $0.metadata["oicsr.architecture"] = #"{"name": "x", "input": [1, 28, 28], "classes": 10, "layers": [{"name": "c", "kind": "warp"}]}"# }
        #expect(problem.contains("layer 'c', field 'kind'"))
    }

    @Test func nonFiniteValues() throws {
        let problem = try Self.corrupted { file in
            let i = file.tensors.firstIndex { $0.name == "fc.weight" }!
            file.tensors[i].values[3] = .nan
        }
        #expect(problem == "tensor 'fc.weight' holds NaN or infinite values")
    }

    @Test func trainingStateResumesMomentum() throws {
        let model = try Self.trainedModel(.convnetS)
        let trainer = Trainer(model: model, configuration: TrainingConfiguration())
        let images = Fixtures.random([2, 28, 28, 1], seed: 3)
        trainer.trainStep(images: images, labels: [1, 2], stepsPerEpoch: 10)
        let path = Self.temporaryPath("m.safetensors")
        try TrainingState.save(trainer, epochsCompleted: 1, token: "save-1", checkpoint: path)
        let other = Trainer(model: model, configuration: TrainingConfiguration())
        #expect(try TrainingState.restore(into: other, checkpoint: path, token: "save-1") == 1)
        for (a, b) in zip(trainer.optimizer.state, other.optimizer.state) { #expect(a.values == b.values) }
        // A state from another save (a kill between the two writes) is refused, not used.
        #expect(throws: CheckpointError.self) { try TrainingState.restore(into: other, checkpoint: path, token: "save-2") }
        #expect(throws: CheckpointError.self) { try TrainingState.restore(into: other, checkpoint: path, token: nil) }
    }
}

import Foundation

// A model checkpoint: the model's tensors under PyTorch state_dict names, in PyTorch's
// layouts, plus what is needed to use it again in `__metadata__` (docs/design.md §3). A PyTorch
// user loads it with `safetensors.torch.load_file` into reference/torch_models.py.

/// What a checkpoint records besides the tensors.
public struct CheckpointInfo: Codable, Equatable, Sendable {
    public var architecture: Architecture
    /// Input normalisation, per channel, applied to pixel/255.
    public var normalization: Normalization
    /// Data set the model was trained on ("fashion-mnist", "cifar10", …).
    public var dataset: String
    /// Class names, in label order.
    public var classNames: [String]
    /// Regularizer used in training ("l2", "gl", "oicsr-gl", "l1-bn") and its λ.
    public var regularizer: String
    public var lambda: Double
    /// Training facts: epochs, batch size, learning rate, schedule, seed, …
    public var training: [String: String]
    /// Metrics such as "top1", "loss".
    public var metrics: [String: Double]

    public init(architecture: Architecture, normalization: Normalization, dataset: String, classNames: [String],
                regularizer: String = "l2", lambda: Double = 0, training: [String: String] = [:], metrics: [String: Double] = [:]) {
        self.architecture = architecture; self.normalization = normalization; self.dataset = dataset
        self.classNames = classNames; self.regularizer = regularizer; self.lambda = lambda
        self.training = training; self.metrics = metrics
    }
}

public enum Checkpoint {
    /// Writes `model` and `info` to `path` atomically.
    public static func save(_ model: Model, info: CheckpointInfo, to path: String) throws {
        try file(for: model, info: info).write(path: path)
    }

    /// The safetensors contents for a model: parameters and BatchNorm statistics in
    /// PyTorch's layouts, in graph order.
    public static func file(for model: Model, info: CheckpointInfo) -> SafeTensorsFile {
        var tensors: [SafeTensorsFile.NamedArray] = []
        for (name, tensor, role) in stateTensors(model) {
            switch role {
            case .convolutionWeight(let out, let kh, let kw, let input):
                tensors.append(.init(name: name, shape: [out, input, kh, kw],
                                     values: Layout.ohwiToOihw(tensor.values, out: out, kh: kh, kw: kw, input: input)))
            default:
                tensors.append(.init(name: name, shape: tensor.shape, values: tensor.values))
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) -> String { String(decoding: try! encoder.encode(value), as: UTF8.self) }
        let metadata: [String: String] = [
            "format": "pt",
            "oicsr.architecture": info.architecture.jsonString(),
            "oicsr.normalization": json(info.normalization),
            "oicsr.dataset": info.dataset,
            "oicsr.class_names": json(info.classNames),
            "oicsr.regularizer": info.regularizer,
            "oicsr.lambda": String(info.lambda),
            "oicsr.training": json(info.training),
            "oicsr.metrics": json(info.metrics),
        ]
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// Reads and validates a checkpoint: metadata present and well formed, every tensor the
    /// architecture needs present with its exact shape, nothing unknown besides PyTorch's
    /// `num_batches_tracked`.
    public static func load(path: String) throws -> (Model, CheckpointInfo) {
        let file = try SafeTensorsFile.read(path: path)
        return try model(from: file, path: path)
    }

    public static func model(from file: SafeTensorsFile, path: String) throws -> (Model, CheckpointInfo) {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(file: path, problem: problem) }
        func field(_ key: String) throws -> String {
            guard let value = file.metadata[key] else { throw fail("not an oicsr checkpoint: metadata '\(key)' is missing") }
            return value
        }
        func decoded<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            guard let value = try? JSONDecoder().decode(T.self, from: Data(try field(key).utf8)) else {
                throw fail("metadata '\(key)' is not valid")
            }
            return value
        }
        let architecture: Architecture
        do {
            architecture = try Architecture.parse(Data(try field("oicsr.architecture").utf8), source: path + " (architecture)")
        } catch let error as ArchitectureError {
            throw fail("architecture in metadata: \(error.description)")
        }
        let normalization = try decoded(Normalization.self, "oicsr.normalization")
        guard normalization.mean.count == architecture.input[0], normalization.std.count == architecture.input[0],
              normalization.std.allSatisfy({ $0 > 0 }) else {
            throw fail("metadata 'oicsr.normalization' does not give a positive std for each of the \(architecture.input[0]) input channels")
        }
        let info = CheckpointInfo(
            architecture: architecture, normalization: normalization, dataset: try field("oicsr.dataset"),
            classNames: try decoded([String].self, "oicsr.class_names"),
            regularizer: file.metadata["oicsr.regularizer"] ?? "l2",
            lambda: Double(file.metadata["oicsr.lambda"] ?? "0") ?? 0,
            training: (try? decoded([String: String].self, "oicsr.training")) ?? [:],
            metrics: (try? decoded([String: Double].self, "oicsr.metrics")) ?? [:])

        let model = try Model(architecture: architecture)
        var expected = Set<String>()
        for (name, tensor, role) in stateTensors(model) {
            expected.insert(name)
            guard let stored = file[name] else { throw fail("tensor '\(name)' is missing") }
            switch role {
            case .convolutionWeight(let out, let kh, let kw, let input):
                guard stored.shape == [out, input, kh, kw] else {
                    throw fail("tensor '\(name)' has shape \(stored.shape), the architecture needs \([out, input, kh, kw])")
                }
                tensor.copy(from: Layout.oihwToOhwi(stored.values, out: out, kh: kh, kw: kw, input: input))
            default:
                guard stored.shape == tensor.shape else {
                    throw fail("tensor '\(name)' has shape \(stored.shape), the architecture needs \(tensor.shape)")
                }
                tensor.copy(from: stored.values)
            }
            guard stored.values.allSatisfy(\.isFinite) else { throw fail("tensor '\(name)' holds NaN or infinite values") }
        }
        for buffer in model.buffers where buffer.name.hasSuffix(".running_var") {
            guard buffer.tensor.values.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(buffer.name)' has negative variances") }
        }
        if let extra = file.tensors.first(where: { !expected.contains($0.name) && !$0.name.hasSuffix(".num_batches_tracked") }) {
            throw fail("tensor '\(extra.name)' is not part of the architecture '\(architecture.name)'")
        }
        return (model, info)
    }

    /// Every tensor a checkpoint holds, with its name and layout role.
    static func stateTensors(_ model: Model) -> [(String, Tensor, ParameterRole)] {
        // Graph order, with each BatchNorm's statistics after its parameters, as PyTorch.
        var result: [(String, Tensor, ParameterRole)] = []
        for node in model.nodes {
            result += node.op.parameters.map { ($0.name, $0.value, $0.role) }
            result += node.op.buffers.map { ($0.name, $0.tensor, ParameterRole.perChannel) }
        }
        return result
    }
}

/// Conversions between the engine's (out, kh, kw, in) filters and PyTorch's (out, in, kh, kw).
public enum Layout {
    public static func ohwiToOihw(_ w: [Float], out: Int, kh: Int, kw: Int, input: Int) -> [Float] {
        var result = [Float](repeating: 0, count: w.count)
        for o in 0..<out { for y in 0..<kh { for x in 0..<kw { for i in 0..<input {
            result[((o * input + i) * kh + y) * kw + x] = w[((o * kh + y) * kw + x) * input + i]
        } } } }
        return result
    }

    public static func oihwToOhwi(_ w: [Float], out: Int, kh: Int, kw: Int, input: Int) -> [Float] {
        var result = [Float](repeating: 0, count: w.count)
        for o in 0..<out { for y in 0..<kh { for x in 0..<kw { for i in 0..<input {
            result[((o * kh + y) * kw + x) * input + i] = w[((o * input + i) * kh + y) * kw + x]
        } } } }
        return result
    }
}

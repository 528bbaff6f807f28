import Foundation

// A model checkpoint: the model's tensors under PyTorch state_dict names, in PyTorch's
// layouts, plus what is needed to use it again in `__metadata__` (docs/design.md §3). A PyTorch
// user loads it with `safetensors.torch.load_file` into reference/torch_models.py.

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
                                     values: WeightLayout.ohwiToOihw(tensor.values, out: out, kh: kh, kw: kw, input: input)))
            default:
                tensors.append(.init(name: name, shape: tensor.shape, values: tensor.values))
            }
        }
        var metadata = info.recipeMetadata
        metadata["format"] = "pt"
        metadata[CheckpointInfo.architectureKey] = info.architecture.jsonString()
        metadata[CheckpointInfo.normalizationKey] = MetadataJSON.encode(info.normalization)
        metadata[CheckpointInfo.datasetKey] = info.dataset
        metadata[CheckpointInfo.classNamesKey] = MetadataJSON.encode(info.classNames)
        metadata[CheckpointInfo.metricsKey] = MetadataJSON.encode(info.metrics)
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// Reads and validates a checkpoint: metadata present and well formed, every tensor the
    /// architecture needs present with its exact shape, nothing unknown besides PyTorch's
    /// `num_batches_tracked`.
    public static func load(path: String) throws -> (Model, CheckpointInfo) {
        let file = try SafeTensorsFile.read(path: path)
        return try model(from: file, path: path)
    }

    /// Values an architecture may declare beyond what the file holds before loading gives up
    /// without building the model (64 MB of floats).
    static let mismatchAllowance = 1 << 24

    public static func model(from file: SafeTensorsFile, path: String) throws -> (Model, CheckpointInfo) {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(file: path, problem: problem) }
        func field(_ key: String) throws -> String {
            guard let value = file.metadata[key] else { throw fail("not an oicsr checkpoint: metadata '\(key)' is missing") }
            return value
        }
        func decoded<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            guard let value = MetadataJSON.decode(T.self, from: try field(key)) else { throw fail("metadata '\(key)' is not valid") }
            return value
        }
        let graph: ModelGraph
        do {
            graph = try Architecture.parseResolving(Data(try field(CheckpointInfo.architectureKey).utf8), source: path + " (architecture)")
        } catch let error as ArchitectureError {
            throw fail("architecture in metadata: \(error.description)")
        }
        let architecture = graph.architecture
        let normalization = try decoded(Normalization.self, CheckpointInfo.normalizationKey)
        guard normalization.mean.count == architecture.input[0], normalization.std.count == architecture.input[0],
              normalization.std.allSatisfy({ $0 > 0 && $0.isFinite }), normalization.mean.allSatisfy(\.isFinite) else {
            throw fail("metadata 'oicsr.normalization' does not give a finite mean and positive std for each of the \(architecture.input[0]) input channels")
        }
        let classNames = try decoded([String].self, CheckpointInfo.classNamesKey)
        guard classNames.count == architecture.classes else {
            throw fail("metadata 'oicsr.class_names' names \(classNames.count) classes, the architecture predicts \(architecture.classes)")
        }
        let metrics = file.metadata[CheckpointInfo.metricsKey] == nil ? [:] : try decoded([String: Double].self, CheckpointInfo.metricsKey)
        let info = CheckpointInfo(
            architecture: architecture, normalization: normalization, dataset: try field(CheckpointInfo.datasetKey),
            classNames: classNames, metrics: metrics,
            recipeMetadata: file.metadata.filter { $0.key.hasPrefix("oicsr.") && !CheckpointInfo.engineKeys.contains($0.key) })

        // An architecture that declares far more than the file holds is refused before the
        // model is allocated; a small mismatch is allocated and named tensor by tensor below.
        let declared = graph.cost.parameters
        let held = file.tensors.reduce(0) { $0 + $1.values.count }
        guard declared <= held + Self.mismatchAllowance else {
            throw fail("the architecture declares \(declared) parameters, the file holds \(held) values")
        }
        let model = Model(graph: graph)
        var expected = Set<String>()
        for (name, tensor, role) in stateTensors(model) {
            expected.insert(name)
            guard let stored = file[name] else { throw fail("tensor '\(name)' is missing") }
            switch role {
            case .convolutionWeight(let out, let kh, let kw, let input):
                guard stored.shape == [out, input, kh, kw] else {
                    throw fail("tensor '\(name)' has shape \(stored.shape), the architecture needs \([out, input, kh, kw])")
                }
                tensor.copy(from: WeightLayout.oihwToOhwi(stored.values, out: out, kh: kh, kw: kw, input: input))
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

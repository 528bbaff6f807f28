import Engine
import Foundation
import Pruning

/// What a MODEL argument names: a built-in, an architecture file, or a checkpoint.
enum ModelSource {
    case builtIn(BuiltInModel)
    case architectureFile(String)
    case checkpoint(String)

    init(_ argument: String, flag: String) throws(UsageError) {
        if let builtIn = BuiltInModel(rawValue: argument) {
            self = .builtIn(builtIn)
        } else if argument.hasSuffix(".json") {
            self = .architectureFile(argument)
        } else if FileManager.default.fileExists(atPath: argument) {
            self = .checkpoint(argument)
        } else {
            throw UsageError(argument: flag, problem: "'\(argument)' is not a built-in model (\(BuiltInModel.allCases.map(\.rawValue).joined(separator: ", "))), an architecture .json file or an existing checkpoint")
        }
    }

    /// The architecture, shaped for `input` (C, H, W) and `classes` where the source allows.
    func architecture(input: [Int], classes: Int) throws -> Architecture {
        switch self {
        case .builtIn(let builtIn):
            return builtIn.architecture(input: input, classes: classes)
        case .architectureFile(let path):
            let bytes: [UInt8]
            do {
                bytes = try AtomicFile.read(path: path, maximumBytes: Self.maximumArchitectureBytes)
            } catch let error as FileIOError {
                throw DataError(file: path, problem: error.problem)
            }
            return try Architecture.parse(Data(bytes), source: path)
        case .checkpoint(let path):
            return try Checkpoint.load(path: path).1.architecture
        }
    }

    /// The largest architecture file read: far more than any real network's JSON needs.
    static let maximumArchitectureBytes = 16 << 20

    var checkpointPath: String? {
        if case .checkpoint(let path) = self { return path }
        return nil
    }
}

/// A MODEL argument that must name a trained checkpoint, loaded with its recipe.
struct TrainedCheckpoint {
    let path: String
    let model: Model
    let info: CheckpointInfo
    let recipe: Recipe

    static func load(_ argument: String) throws -> TrainedCheckpoint {
        let source = try ModelSource(argument, flag: "MODEL")
        guard let path = source.checkpointPath else {
            throw UsageError(argument: argument, problem: "needs a trained checkpoint (train one with 'oicsr train --reg oicsr-gl')")
        }
        let (model, info) = try Checkpoint.load(path: path)
        return TrainedCheckpoint(path: path, model: model, info: info, recipe: try info.recipe(file: path))
    }
}

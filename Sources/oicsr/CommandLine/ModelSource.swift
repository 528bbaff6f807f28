import Engine
import Foundation

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
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DataError(file: path, problem: "cannot read the architecture file")
            }
            return try Architecture.parse(data, source: path)
        case .checkpoint(let path):
            return try Checkpoint.load(path: path).1.architecture
        }
    }

    var checkpointPath: String? {
        if case .checkpoint(let path) = self { return path }
        return nil
    }
}

/// Loads the data set named by `--data` (or the default), with a clear error when its
/// images do not fit the model.
enum DataArguments {
    static func load(_ arguments: ParsedArguments) throws -> DataSplits {
        let folder = arguments.string("data") ?? DataSource.defaultFolder()
        var splits = try DataSource.load(folder: folder)
        if let limit = arguments.string("limit") {
            guard let n = Int(limit), n > 0 else { throw UsageError(argument: "--limit", problem: "'\(limit)' is not a positive count") }
            splits = DataSplits(train: splits.train.subset(first: min(n, splits.train.count)),
                                test: splits.test.subset(first: min(n, splits.test.count)))
        }
        return splits
    }

    static func check(_ data: Dataset, fits architecture: Architecture, dataFolder: String) throws {
        let shape = [data.channels, data.height, data.width]
        guard shape == architecture.input else {
            throw UsageError(argument: "--data", problem: "\(dataFolder) has \(shape.map(String.init).joined(separator: "x")) images, the model '\(architecture.name)' takes \(architecture.input.map(String.init).joined(separator: "x"))")
        }
        guard data.classes == architecture.classes else {
            throw UsageError(argument: "--data", problem: "\(dataFolder) has \(data.classes) classes, the model '\(architecture.name)' predicts \(architecture.classes)")
        }
    }
}

import Engine
import Foundation

/// `--data` and `--limit`: the data set a command trains or evaluates on.
struct DataOptions {
    static let data = Option.text("data", placeholder: "DIR", defaultDescription: "$\(DataSource.environmentVariable), else Fashion-MNIST",
                                  help: "data: a folder of MNIST-format IDX or CIFAR binary files, or a .safetensors data file (python3 -m oicsr_torch export-data)")
    static let limit = Option.count("limit", default: nil, help: "use only the first N training and test examples")
    static let declarations = [data.declaration, limit.declaration]

    /// The folder in use: `--data`, else the default.
    let folder: String
    /// Whether the user named the data (so a mismatch with the model is their error).
    let isExplicit: Bool
    let limit: Int?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        let given = try arguments.valueIfAny(Self.data)
        folder = given ?? DataSource.defaultFolder()
        isExplicit = given != nil || ProcessInfo.processInfo.environment[DataSource.environmentVariable].map { !$0.isEmpty } == true
        limit = try arguments.valueIfAny(Self.limit)
    }

    /// The training and test splits, cut to `--limit`.
    func load() throws -> DataSplits {
        let splits = try DataSource.load(folder: folder)
        guard let limit else { return splits }
        return DataSplits(train: splits.train.subset(first: limit), test: splits.test.subset(first: limit))
    }

    /// A clear error unless the images and classes fit the model.
    func check(_ data: Dataset, fits architecture: Architecture) throws(UsageError) {
        guard let problem = Self.mismatch(data, architecture) else { return }
        throw UsageError(argument: "--data", problem: "\(folder) \(problem)")
    }

    /// What keeps the data from fitting the model, or nil.
    static func mismatch(_ data: Dataset, _ architecture: Architecture) -> String? {
        let shape = [data.channels, data.height, data.width]
        if shape != architecture.input {
            return "has \(shape.map(String.init).joined(separator: "x")) images, the model '\(architecture.name)' takes \(architecture.input.map(String.init).joined(separator: "x"))"
        }
        if data.classes != architecture.classes {
            return "has \(data.classes) classes, the model '\(architecture.name)' predicts \(architecture.classes)"
        }
        return nil
    }
}

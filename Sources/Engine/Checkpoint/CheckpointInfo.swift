import Foundation

/// What a checkpoint records besides the tensors (docs/architecture-json.md §3, §4).
public struct CheckpointInfo: Equatable, Sendable {
    public var architecture: Architecture
    /// Input normalisation, per channel, applied to pixel/255.
    public var normalization: Normalization
    /// Data set the model was trained on ("fashion-mnist", "cifar10", …).
    public var dataset: String
    /// Class names, in label order.
    public var classNames: [String]
    /// Figures of the model such as "top1" and "loss" (keys in docs/architecture-json.md §4).
    public var metrics: [String: Double]
    /// Every other `oicsr.` metadata entry, as written: how the model was trained and pruned.
    /// The Pruning module's `Recipe` reads and writes them; the engine only carries them.
    public var recipeMetadata: [String: String]

    public init(architecture: Architecture, normalization: Normalization, dataset: String, classNames: [String],
                metrics: [String: Double] = [:], recipeMetadata: [String: String] = [:]) {
        self.architecture = architecture; self.normalization = normalization; self.dataset = dataset
        self.classNames = classNames; self.metrics = metrics; self.recipeMetadata = recipeMetadata
    }

    /// The metadata keys the engine itself reads and writes.
    static let architectureKey = "oicsr.architecture", normalizationKey = "oicsr.normalization"
    static let datasetKey = "oicsr.dataset", classNamesKey = "oicsr.class_names", metricsKey = "oicsr.metrics"
    static let engineKeys: Set<String> = [architectureKey, normalizationKey, datasetKey, classNamesKey, metricsKey]
}

import Engine
import Foundation
import Pruning

// Sensitivity analysis: how much accuracy the model keeps with part of its channels gone,
// measured on the first N test images.
// - Per layer (as in Li et al., "Pruning Filters for Efficient ConvNets", §3.2): the
//   lowest-energy 10%, 20%, … 90% of one layer's channels removed, every other layer whole.
//   Drawn as a sparkline per layer in the overview: a layer whose line falls early is one
//   to spare.
// - Along the global walk: the model pruned to every 5% of FLOPs the walk reaches, evaluated
//   as pruned and after re-estimating its BatchNorm statistics (a cheap repair). Drawn as
//   the accuracy-against-FLOPs chart, with the current target marked.
// The figures are kept beside the checkpoint ("<checkpoint>.sensitivity.json") with a
// fingerprint of the weights, so they are measured once per model.

public struct SensitivityTable: Codable, Equatable, Sendable {
    /// Shares of one layer's channels removed, per point of its sensitivity line.
    public static let layerShares: [Double] = (1...9).map { Double($0) / 10 }
    /// The walk is measured at every multiple of this share of FLOPs, and where it ends.
    public static let walkSpacing = 0.05

    public struct WalkPoint: Codable, Equatable, Sendable {
        /// Share of FLOPs (MACs) the pruned model has removed.
        public var removedShare: Double
        /// Steps of the walk taken.
        public var steps: Int
        /// Top-1 straight after surgery, and after BatchNorm re-estimation.
        public var asPruned: Double
        public var afterBatchNorm: Double?

        public init(removedShare: Double, steps: Int, asPruned: Double, afterBatchNorm: Double?) {
            self.removedShare = removedShare
            self.steps = steps
            self.asPruned = asPruned
            self.afterBatchNorm = afterBatchNorm
        }
    }

    public var dataset: String
    /// The first `examples` test images are evaluated.
    public var examples: Int
    /// Training images the BatchNorm re-estimation uses.
    public var batchNormExamples: Int
    /// Of the weights the figures belong to (`ModelAnalysis.fingerprint`).
    public var fingerprint: String
    /// Top-1 of the dense model on the same images.
    public var denseTop1: Double?
    /// "criterion/layer" → top-1 per share of `layerShares`, as far as measured.
    public var layers: [String: [Double]]
    /// "criterion/normalization/coupled" → the walk's points, as far as measured.
    public var walks: [String: [WalkPoint]]

    public init(dataset: String, examples: Int, batchNormExamples: Int, fingerprint: String, denseTop1: Double? = nil,
                layers: [String: [Double]] = [:], walks: [String: [WalkPoint]] = [:]) {
        self.dataset = dataset
        self.examples = examples
        self.batchNormExamples = batchNormExamples
        self.fingerprint = fingerprint
        self.denseTop1 = denseTop1
        self.layers = layers
        self.walks = walks
    }

    static func layerKey(criterion: ImportanceCriterion, group: String) -> String {
        criterion.rawValue + "/" + group
    }

    static func walkKey(_ key: WalkKey) -> String {
        "\(key.criterion.rawValue)/\(key.normalization.rawValue)/\(key.coupled ? "coupled" : "internal")"
    }

    public func layerCurve(criterion: ImportanceCriterion, group: String) -> [Double]? {
        layers[Self.layerKey(criterion: criterion, group: group)]
    }

    public func walkCurve(_ key: WalkKey) -> [WalkPoint]? {
        walks[Self.walkKey(key)]
    }

    /// Channels removed from a layer of `width` for the share at `index` of `layerShares`:
    /// at least one, and never the whole layer.
    public static func removedChannels(width: Int, shareIndex: Int) -> Int {
        min(width - 1, max(1, Int((layerShares[shareIndex] * Double(width)).rounded())))
    }

    /// The FLOPs shares the walk is measured at: every `walkSpacing` below where it ends,
    /// then its end.
    public static func walkTargets(reachable: Double) -> [Double] {
        var targets: [Double] = []
        var share = walkSpacing
        while share < reachable - 1e-9 {
            targets.append(share)
            share += walkSpacing
        }
        if reachable > 0 { targets.append(reachable) }
        return targets
    }

    /// Whether every figure for the explorer's current settings is measured.
    func isComplete(for state: ExplorerState) -> Bool {
        guard denseTop1 != nil, let walk = state.walk else { return false }
        let layersDone = state.groups.allSatisfy { group in
            group.width < 2 || (layerCurve(criterion: state.settings.criterion, group: group.name)?.count ?? 0) == Self.layerShares.count
        }
        let points = Self.walkTargets(reachable: walk.selection.reachableShare).count
        return layersDone && (walkCurve(state.settings.walkKey)?.count ?? 0) >= points
    }

    // MARK: The cache beside the checkpoint

    public static func cachePath(forCheckpoint checkpoint: String) -> String { checkpoint + ".sensitivity.json" }

    /// The cached figures for these weights, data and number of images, or nil (missing,
    /// unreadable or for other weights: the analysis then starts afresh).
    public static func load(checkpoint: String, fingerprint: String, dataset: String, examples: Int) -> SensitivityTable? {
        guard let data = FileManager.default.contents(atPath: cachePath(forCheckpoint: checkpoint)),
              let table = try? JSONDecoder().decode(SensitivityTable.self, from: data),
              table.fingerprint == fingerprint, table.dataset == dataset, table.examples == examples else { return nil }
        return table
    }

    /// Writes the figures beside the checkpoint, atomically.
    public func save(checkpoint: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: Self.cachePath(forCheckpoint: checkpoint))
    }
}

import Canvas
import Engine
import Pruning

// How quickly the explorer answers a key on a big model (torchvision's ResNet-50 at
// 224x224): moving the target and drawing the next frame must fit well inside one frame
// (the budget is 5 ms), in the overview with every layer's sensitivity line drawn and in
// the layer view; and even a change that recomputes the whole greedy walk (another
// normalisation) should.

public enum ExplorerBenchmark {
    public struct Figures: Codable, Sendable {
        public var model: String
        public var groups: Int
        public var channels: Int
        /// A target change (selection recomputed from the walk) plus rendering the overview,
        /// sensitivity lines included, at 200x60; best of repeated runs, in milliseconds.
        public var overviewFrameMilliseconds: Double
        /// The same with the layer view.
        public var layerFrameMilliseconds: Double
        /// The whole greedy walk (normalise, sort, price every step), in milliseconds.
        public var walkMilliseconds: Double
    }

    public static let size = Size(width: 200, height: 60)
    /// The frame budget the figures are held to.
    public static let budgetMilliseconds = 5.0

    /// Measures on an untrained ResNet-50 (the work does not depend on the weights' values).
    public static func measure(seconds: Double) throws -> Figures {
        let architecture = ResNet50.architecture()
        let network = try Model(architecture: architecture, seed: 1)
        let analysis = try ModelAnalysis(model: network)
        let description = ModelDescription(name: architecture.name, path: "resnet50.safetensors", dataset: "imagenet",
                                           regularizer: Recipe.Regularization(kind: .oicsrGL, lambda: 1e-4),
                                           trainExamples: 0, testExamples: 0)
        var state = ExplorerState(model: description, analysis: analysis, size: size)
        state.send(.command(.targetUpLarge))
        state.sensitivity = syntheticSensitivity(state)

        func frame(_ state: inout ExplorerState) -> Double {
            var up = true
            return Benchmark.best(seconds: seconds / 3, minimumRuns: 20) {
                // Back and forth, so the target stays in range however many runs there are.
                state.send(.command(up ? .targetUp : .targetDown))
                up.toggle()
                withExtendedLifetime(ExplorerView.render(state, size: size)) {}
            }
        }
        let overview = frame(&state)
        state.send(.command(.openGroup))
        let layer = frame(&state)
        let key = WalkKey(criterion: .outIn, normalization: .standard, coupled: false)
        let walk = Benchmark.best(seconds: seconds / 3, minimumRuns: 5) {
            withExtendedLifetime(Walk(analysis: analysis, key: key)) {}
        }
        return Figures(model: architecture.name, groups: state.groups.count, channels: state.groups.reduce(0) { $0 + $1.width },
                       overviewFrameMilliseconds: overview * 1000, layerFrameMilliseconds: layer * 1000,
                       walkMilliseconds: walk * 1000)
    }

    /// Figures of the right shape for every layer and the walk, so that the overview draws
    /// every sensitivity line and the chart its curves.
    static func syntheticSensitivity(_ state: ExplorerState) -> SensitivityTable {
        var table = SensitivityTable(dataset: "imagenet", examples: 1000, batchNormExamples: 1000,
                                     fingerprint: state.analysis?.fingerprint ?? "", denseTop1: 0.76)
        for (index, group) in state.groups.enumerated() {
            table.layers[SensitivityTable.layerKey(criterion: state.settings.criterion, group: group.name)] =
                SensitivityTable.layerShares.map { 0.76 - $0 * $0 * Double(index % 7 + 1) * 0.08 }
        }
        if let walk = state.walk {
            table.walks[SensitivityTable.walkKey(state.settings.walkKey)] =
                SensitivityTable.walkTargets(reachable: walk.selection.reachableShare).map {
                    SensitivityTable.WalkPoint(removedShare: $0, steps: walk.selection.stepCount(toReach: $0) ?? 0,
                                               asPruned: 0.76 - $0 * $0, afterBatchNorm: 0.76 - $0 * $0 / 2)
                }
        }
        return table
    }
}

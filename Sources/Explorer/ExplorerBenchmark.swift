import Canvas
import Engine
import Pruning

// How quickly the explorer answers a key, on the largest reference model: moving the target
// and drawing the next frame must fit well inside one frame (the budget is 5 ms), and even
// a change that recomputes the whole greedy walk (another normalisation) should.

public enum ExplorerBenchmark {
    public struct Figures: Codable, Sendable {
        /// A target change (selection recomputed from the walk) plus rendering the layer view
        /// of resnet56 at 200x60, best of repeated runs, in milliseconds.
        public var frameMilliseconds: Double
        /// The whole greedy walk of resnet56 (normalise, sort, price every step), in milliseconds.
        public var walkMilliseconds: Double
    }

    public static let model = BuiltInModel.resnet56
    public static let size = Size(width: 200, height: 60)

    /// Measures on an untrained resnet56 (the work does not depend on the weights' values).
    public static func measure(seconds: Double) throws -> Figures {
        let network = try Model(architecture: model.architecture(), seed: 1)
        let analysis = try ModelAnalysis(model: network)
        let description = ModelDescription(name: model.rawValue, path: "\(model.rawValue).safetensors", dataset: "fashion-mnist",
                                           regularizer: Recipe.Regularization(kind: .oicsrGL, lambda: 1e-4),
                                           trainExamples: 0, testExamples: 0)
        var state = ExplorerState(model: description, analysis: analysis, size: size)
        state.send(.command(.targetUpLarge))
        state.send(.command(.openGroup))
        var up = true
        let frame = Benchmark.best(seconds: seconds, minimumRuns: 20) {
            // Back and forth, so the target stays in range however many runs there are.
            state.send(.command(up ? .targetUp : .targetDown))
            up.toggle()
            withExtendedLifetime(ExplorerView.render(state, size: size)) {}
        }
        let key = WalkKey(criterion: .outIn, normalization: .standard, coupled: false)
        let walk = Benchmark.best(seconds: seconds, minimumRuns: 5) {
            withExtendedLifetime(Walk(analysis: analysis, key: key)) {}
        }
        return Figures(frameMilliseconds: frame * 1000, walkMilliseconds: walk * 1000)
    }
}

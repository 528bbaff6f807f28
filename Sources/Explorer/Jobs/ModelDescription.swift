import Canvas
import Engine
import Pruning

/// What the explorer knows about its model besides the weights: names for the screen.
public struct ModelDescription: Equatable, Sendable {
    /// Architecture name, e.g. "convnet-s".
    public var name: String
    /// The checkpoint the explorer opened (or trains into).
    public var path: String
    /// Data set the explorer evaluates on, e.g. "fashion-mnist".
    public var dataset: String
    /// The regularizer the model was trained with, and its λ.
    public var regularizer: Recipe.Regularization
    /// Examples in the training and test splits in use (after `--limit`).
    public var trainExamples: Int
    public var testExamples: Int
    /// The command-line options that chose the data (`--data DIR`, `--limit N`), so that a
    /// command the explorer shows runs on the same data.
    public var dataArguments: [String] = []

    public init(name: String, path: String, dataset: String, regularizer: Recipe.Regularization,
                trainExamples: Int, testExamples: Int) {
        self.name = name; self.path = path; self.dataset = dataset; self.regularizer = regularizer
        self.trainExamples = trainExamples; self.testExamples = testExamples
    }

    /// The importance criterion that matches how the model was trained (docs/design.md §5).
    public var matchingCriterion: ImportanceCriterion {
        .matching(regularizer.kind)
    }
}

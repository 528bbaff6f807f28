import Canvas
import Engine
import Pruning

// The explorer at run time, minus the terminal: the state machine, the job runner, and the
// models (as snapshots) that jobs work on. A front end feeds it keys and sizes and draws
// what `frame(size:)` returns; between keys it calls `poll()` so job progress shows up.
//
//     let session = try ExplorerSession(model: model, info: info, path: path, data: data, size: screen.size)
//     while !session.isFinished {
//         screen.draw(session.frame(size: screen.size), theme: theme)
//         if let key = screen.readKey(timeoutMilliseconds: 50) { session.handle(key) }
//         session.poll()
//     }
//     session.shutdown()

public final class ExplorerSession {
    public private(set) var state: ExplorerState
    private let runner = JobRunner()
    private let data: DataSplits
    /// The test images a quick evaluation uses (`--eval-limit`, else all).
    private let evaluationTest: Dataset
    /// The model being explored, and the pruned ones the state holds, by id.
    private var dense: ModelSnapshot?
    private var pruned: [Int: ModelSnapshot] = [:]
    /// The pruned model the running job works on or makes.
    private var runningModel: Int?
    /// Text the state asked to copy, for the front end to put on the terminal's clipboard.
    private var copies: [String] = []

    /// Explores a trained model. Computes its groups and energies here, on the caller's thread.
    /// - Parameters:
    ///   - evaluationLimit: test images a quick evaluation and the sensitivity analysis use
    ///     (the first N); nil: all for evaluation, a thousand for the analysis.
    ///   - dataArguments: the options that chose the data, for commands the explorer shows.
    ///   - comparison: a second checkpoint of the same architecture to show side by side.
    public init(model: Model, info: CheckpointInfo, path: String, data: DataSplits, size: Size,
                evaluationLimit: Int? = nil, dataArguments: [String] = [],
                comparison: (model: Model, info: CheckpointInfo, path: String)? = nil) throws {
        var description = ModelDescription(name: model.architecture.name, path: path, dataset: data.test.name,
                                           regularizer: try info.recipe(file: path).regularizer,
                                           trainExamples: data.train.count, testExamples: data.test.count)
        description.dataArguments = dataArguments
        let analysis = try ModelAnalysis(model: model)
        var other: ExplorerState.Comparison?
        if let comparison {
            let otherAnalysis = try ModelAnalysis(model: comparison.model)
            guard otherAnalysis.plain.groups.groups.map(\.name) == analysis.plain.groups.groups.map(\.name) else {
                throw ComparisonError(path: comparison.path, problem: "its prunable layers are not those of \(path); compare two checkpoints of one architecture")
            }
            var otherDescription = ModelDescription(name: comparison.model.architecture.name, path: comparison.path, dataset: data.test.name,
                                                    regularizer: try comparison.info.recipe(file: comparison.path).regularizer,
                                                    trainExamples: data.train.count, testExamples: data.test.count)
            otherDescription.dataArguments = dataArguments
            other = ExplorerState.Comparison(model: otherDescription, analysis: otherAnalysis)
        }
        let examples = ExplorerState.sensitivityExamples(evaluationLimit: evaluationLimit, testExamples: data.test.count)
        let cached = SensitivityTable.load(checkpoint: path, fingerprint: analysis.fingerprint, dataset: data.test.name, examples: examples)
        state = ExplorerState(model: description, analysis: analysis, size: size, comparison: other, sensitivity: cached,
                              evaluationLimit: evaluationLimit)
        self.data = data
        evaluationTest = evaluationLimit.map { data.test.subset(first: min($0, data.test.count)) } ?? data.test
        dense = ModelSnapshot(model, info: info)
    }

    /// Trains the default model into `cachePath` first (a background job), then explores it.
    public init(trainingDefaultInto cachePath: String, data: DataSplits, size: Size, evaluationLimit: Int? = nil,
                dataArguments: [String] = []) {
        let regularizer = DefaultModel.regularizer
        var description = ModelDescription(name: DefaultModel.architecture.rawValue, path: cachePath, dataset: data.train.name,
                                           regularizer: Recipe.Regularization(regularizer),
                                           trainExamples: data.train.count, testExamples: data.test.count)
        description.dataArguments = dataArguments
        state = ExplorerState(training: description, size: size, evaluationLimit: evaluationLimit)
        self.data = data
        evaluationTest = evaluationLimit.map { data.test.subset(first: min($0, data.test.count)) } ?? data.test
        perform([.start(.trainDefault)])
    }

    public var isFinished: Bool { state.isFinished }
    public var isJobRunning: Bool { runner.isRunning }

    /// The screen for `size`, telling the state first if the size changed.
    public func frame(size: Size) -> Grid {
        if size != state.size { perform(state.send(.resize(size))) }
        return ExplorerView.render(state, size: size)
    }

    public func handle(_ key: Key) {
        perform(state.send(.key(key)))
    }

    public func send(_ action: Action) {
        perform(state.send(action))
    }

    /// Text to put on the clipboard since the last call (the `y` key).
    public func takeCopies() -> [String] {
        defer { copies.removeAll() }
        return copies
    }

    /// Takes in the running job's progress and result. Returns whether anything arrived
    /// (the screen then needs drawing).
    @discardableResult
    public func poll() -> Bool {
        let (events, result) = runner.poll()
        if let result {
            if let model = result.dense { dense = model }
            if let model = result.pruned, let id = runningModel { pruned[id] = model }
        }
        if !events.isEmpty, runner.isRunning == false { runningModel = nil }
        for event in events { perform(state.send(.job(event))) }
        return !events.isEmpty
    }

    /// Stops a running job (waiting briefly for it, so a save is never cut short).
    public func shutdown() {
        runner.cancelAndWait()
    }

    // MARK: Effects

    private func perform(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .start(let request): start(request)
            case .cancelJob: runner.cancel()
            case .forget(let id): pruned[id] = nil
            case .copy(let text): copies.append(text)
            case .quit: break
            }
        }
    }

    private typealias Work = @Sendable (JobContext) throws -> JobResult

    /// Work on `snapshot`, or nil without one.
    private static func on(_ snapshot: ModelSnapshot?,
                           _ body: @escaping @Sendable (ModelSnapshot, JobContext) throws -> JobResult) -> Work? {
        guard let snapshot else { return nil }
        return { try body(snapshot, $0) }
    }

    /// Starts the job for `request` with the values it needs; if those are missing (a
    /// request the state machine should not have made), reports a failure instead.
    private func start(_ request: JobRequest) {
        let data = self.data, test = evaluationTest
        let dense = self.dense
        let model = request.model.flatMap { pruned[$0] }
        let source = state.model.path
        let work: Work?
        switch request {
        case .trainDefault:
            work = { try Jobs.trainDefault(data: data, path: source, context: $0) }
        case .prune(let plan, let settings, let removedShare, let id):
            work = Self.on(dense) {
                try Jobs.prune(dense: $0, plan: plan, settings: settings, removedShare: removedShare, source: source, id: id, context: $1)
            }
        case .evaluate(let evaluateDense, let id):
            let denseModel = evaluateDense ? dense : nil
            if id != nil && model == nil {
                work = nil
            } else {
                work = { try Jobs.evaluate(dense: denseModel, pruned: model, id: id, test: test, context: $0) }
            }
        case .reestimateBatchNorm(let id):
            work = Self.on(model) { try Jobs.reestimateBatchNorm(pruned: $0, id: id, data: data, test: test, context: $1) }
        case .fineTune(let id):
            work = Self.on(model) { try Jobs.fineTune(pruned: $0, id: id, data: data, test: test, context: $1) }
        case .save(let facts, let id):
            work = Self.on(model) { try Jobs.save(pruned: $0, id: id, facts: facts, source: source, context: $1) }
        case .sensitivity(let sensitivity):
            work = Self.on(dense) { try Jobs.sensitivity(sensitivity, dense: $0, data: data, source: source, context: $1) }
        case .calibrate(let target, let settings, let criteria):
            work = Self.on(dense) { try Jobs.calibrate(dense: $0, target: target, settings: settings, criteria: criteria, data: data, context: $1) }
        }
        guard let work else {
            perform(state.send(.job(.failed("no model to work on"))))
            return
        }
        runningModel = request.model
        runner.start(work)
    }
}

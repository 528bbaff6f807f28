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
    /// The model being explored, and the pruned one once made.
    private var dense: ModelSnapshot?
    private var pruned: ModelSnapshot?

    /// Explores a trained model. Computes its groups and energies here, on the caller's thread.
    public init(model: Model, info: CheckpointInfo, path: String, data: DataSplits, size: Size) throws {
        let description = ModelDescription(name: model.architecture.name, path: path, dataset: data.test.name,
                                           regularizer: try info.recipe(file: path).regularizer,
                                           trainExamples: data.train.count, testExamples: data.test.count)
        state = ExplorerState(model: description, analysis: try ModelAnalysis(model: model), size: size)
        self.data = data
        dense = ModelSnapshot(model, info: info)
    }

    /// Trains the default model into `cachePath` first (a background job), then explores it.
    public init(trainingDefaultInto cachePath: String, data: DataSplits, size: Size) {
        let regularizer = DefaultModel.regularizer
        let description = ModelDescription(name: DefaultModel.architecture.rawValue, path: cachePath, dataset: data.train.name,
                                           regularizer: Recipe.Regularization(regularizer),
                                           trainExamples: data.train.count, testExamples: data.test.count)
        state = ExplorerState(training: description, size: size)
        self.data = data
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

    /// Takes in the running job's progress and result. Returns whether anything arrived
    /// (the screen then needs drawing).
    @discardableResult
    public func poll() -> Bool {
        let (events, result) = runner.poll()
        if let result {
            if let model = result.dense { dense = model }
            if let model = result.pruned { pruned = model }
        }
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
        let data = self.data
        let dense = self.dense, pruned = self.pruned
        let source = state.model.path
        let work: Work?
        switch request {
        case .trainDefault:
            work = { try Jobs.trainDefault(data: data, path: source, context: $0) }
        case .prune(let plan, let settings, let removedShare):
            work = Self.on(dense) {
                try Jobs.prune(dense: $0, plan: plan, settings: settings, removedShare: removedShare, source: source, context: $1)
            }
        case .evaluate(let evaluateDense, let evaluatePruned):
            let denseModel = evaluateDense ? dense : nil, prunedModel = evaluatePruned ? pruned : nil
            work = { try Jobs.evaluate(dense: denseModel, pruned: prunedModel, test: data.test, context: $0) }
        case .reestimateBatchNorm:
            work = Self.on(pruned) { try Jobs.reestimateBatchNorm(pruned: $0, data: data, context: $1) }
        case .fineTune:
            work = Self.on(pruned) { try Jobs.fineTune(pruned: $0, data: data, context: $1) }
        case .save(let facts):
            work = Self.on(pruned) { try Jobs.save(pruned: $0, facts: facts, source: source, context: $1) }
        }
        guard let work else {
            perform(state.send(.job(.failed("no model to work on"))))
            return
        }
        runner.start(work)
    }
}

import Canvas
import Pruning

// The explorer's whole state, as a value. `send(_:)` (ExplorerState+Update.swift) is the
// only way it changes; `ExplorerView.render` (Views/) draws it. Neither touches a terminal,
// a thread or a model's weights, which is what lets tests drive the explorer with key
// sequences and compare its screens with golden files.

public struct ExplorerState: Sendable {
    public enum Phase: Sendable {
        /// Training the default model before anything can be explored.
        case training
        case exploring
    }

    public enum View: Int, CaseIterable, Sendable {
        case overview, group, sensitivity, results, compare

        public var title: String {
            switch self {
            case .overview: "Overview"
            case .group: "Layer"
            case .sensitivity: "Sensitivity"
            case .results: "Results"
            case .compare: "Compare"
            }
        }
    }

    /// Boxes drawn over the view that take the keys while open.
    public enum Overlay: Equatable, Sendable {
        /// The key table, scrolled to `scroll`.
        case help(scroll: Int)
        /// "Quit anyway?", with the reason to ask.
        case confirmQuit(reason: String)
        /// The session keeps a few pruned models; making one more needs room, and the
        /// oldest is unsaved: "Discard it?"
        case confirmDiscard(model: Int)
    }

    public enum ChannelOrder: Sendable {
        /// Ascending normalised energy: the walk's order, so the selection is on the left.
        case energy
        case index
    }

    /// The column the layer list is sorted by (`o` cycles; a click on a column's title picks it).
    public enum Sort: CaseIterable, Sendable {
        /// As the layers come in the model.
        case model
        /// Share of the layer's channels the selection takes, most first.
        case taken
        /// Share of the model's FLOPs the selection frees in the layer, most first.
        case freed
        /// Median normalised energy, lowest first.
        case energy
        /// Accuracy with half the layer's channels removed, most sensitive (lowest) first.
        case sensitivity

        public var title: String {
            switch self {
            case .model: "model order"
            case .taken: "share taken"
            case .freed: "FLOPs freed"
            case .energy: "median energy"
            case .sensitivity: "sensitivity"
            }
        }
    }

    public struct Message: Equatable, Sendable {
        public enum Kind: Sendable { case info, warning, error }
        public var kind: Kind
        public var text: String

        public init(_ kind: Kind, _ text: String) {
            self.kind = kind
            self.text = text
        }
    }

    public struct RunningJob: Equatable, Sendable {
        public var kind: JobKind
        public var progress: JobProgress?
        /// Esc was pressed; waiting for the job to stop at its next safe point.
        public var isCancelling = false
        /// For a prune job: the selection being pruned.
        public var pruning: SelectionSettings?
        /// The pruned model the job works on, if any.
        public var model: Int?
        /// Time left, from the job's reports.
        public var eta = EtaEstimator()
    }

    /// How far the pruned model has been repaired; evaluations fill the matching row.
    public enum Stage: Sendable {
        case pruned, batchNormReestimated, fineTuned
    }

    /// A physically pruned model the session holds, as far as the screen is concerned.
    public struct PrunedModel: Equatable, Sendable {
        /// Numbered from 1 in the order they were made; never reused in a session.
        public var id: Int
        /// The selection it was made from.
        public var settings: SelectionSettings
        /// The dense model's figures and the pruned model's (MACs per image, parameters,
        /// prunable channels).
        public var before: CostFigures
        public var after: CostFigures
        public var stage: Stage = .pruned
        /// Test figures straight after surgery, after BN re-estimation, after fine-tuning.
        public var afterPruning: EvaluationSummary?
        public var afterBatchNorm: EvaluationSummary?
        public var afterFineTuning: EvaluationSummary?
        public var speed: SpeedSummary?
        /// Where it was last saved.
        public var savedPath: String?
        /// False once changed (re-estimated, fine-tuned) since the last save.
        public var isSaved = false
        /// BatchNorm re-estimations and fine-tuning epochs it went through.
        public var batchNormReestimations = 0
        public var fineTuningEpochs = 0

        /// Share of FLOPs (MACs) removed, 0…1.
        public var removedShare: Double {
            before.macs > 0 ? Double(before.macs - after.macs) / Double(before.macs) : 0
        }

        /// The latest test figures of the model as it is now.
        public var latest: EvaluationSummary? {
            switch stage {
            case .pruned: afterPruning
            case .batchNormReestimated: afterBatchNorm
            case .fineTuned: afterFineTuning
            }
        }

        /// "#2 · 30.4%".
        public var name: String { "#\(id) · \(Format.percent(removedShare, decimals: 1))" }
    }

    public struct Results: Equatable, Sendable {
        public var dense: EvaluationSummary?
        public var denseSpeed: SpeedSummary?
        /// The session's pruned models, oldest first (at most `ExplorerState.keptModels`).
        public var models: [PrunedModel] = []
        /// The id of the one the results show and b, f, s, e work on.
        public var current: Int?

        /// The current pruned model.
        public var pruned: PrunedModel? {
            get { models.first { $0.id == current } }
            set {
                guard let index = models.firstIndex(where: { $0.id == current }) else { return }
                if let newValue { models[index] = newValue } else { models.remove(at: index) }
            }
        }

        func index(of id: Int) -> Int? { models.firstIndex { $0.id == id } }
    }

    /// A second checkpoint of the same architecture, shown side by side (`--compare`).
    public struct Comparison: Sendable {
        public let model: ModelDescription
        public let analysis: ModelAnalysis

        public init(model: ModelDescription, analysis: ModelAnalysis) {
            self.model = model
            self.analysis = analysis
        }
    }

    /// Why the explorer closed, when that matters to the exit status.
    public enum Ending: Equatable, Sendable {
        case quit
        /// Esc during the first run's training: nothing was cached.
        case trainingCancelled
    }

    /// Pruned models the session keeps at once; making another drops the oldest saved one,
    /// or asks before dropping an unsaved one.
    public static let keptModels = 4

    /// The terminal size the state last heard of (scroll positions depend on it).
    public internal(set) var size: Size
    public internal(set) var phase: Phase
    public internal(set) var model: ModelDescription
    /// Nil only while the default model trains.
    public internal(set) var analysis: ModelAnalysis?
    public internal(set) var settings: SelectionSettings
    /// The walk for `settings`; nil only while training.
    public internal(set) var walk: Walk?
    /// Every walk computed so far: switching back to a normalisation costs nothing.
    var walks: [WalkKey: Walk] = [:]

    public internal(set) var view: View = .overview
    public internal(set) var overlay: Overlay?
    /// The layer (group) under the cursor.
    public internal(set) var group = 0
    /// The channel under the cursor in the layer view (its index within the group).
    public internal(set) var channel = 0
    public internal(set) var order: ChannelOrder = .energy
    public internal(set) var sort: Sort = .model
    /// Only layers whose name contains this (case-insensitive) are listed.
    public internal(set) var filter = ""
    /// The filter being typed after `/`; nil when not typing.
    public internal(set) var filterInput: String?
    /// First list row shown in the overview; first bar position shown in the layer view;
    /// first line shown in the results view.
    public internal(set) var groupScroll = 0
    public internal(set) var channelScroll = 0
    public internal(set) var resultsScroll = 0

    public internal(set) var job: RunningJob?
    /// A job asked for while the sensitivity job ran: it starts once that one has paused.
    var queued: JobRequest?
    /// The sensitivity job was paused for another job and resumes after it.
    var resumesSensitivity = false
    public internal(set) var results = Results()
    var nextModelID = 1
    /// Accuracy figures per layer and along the walk, as far as measured.
    public internal(set) var sensitivity: SensitivityTable?
    /// Test images a quick evaluation uses (`--eval-limit`); nil: all.
    public internal(set) var evaluationLimit: Int?
    public internal(set) var comparison: Comparison?
    var comparisonWalks: [WalkKey: Walk] = [:]
    public internal(set) var message: Message?
    var undoStack: [SelectionSettings] = []
    var redoStack: [SelectionSettings] = []
    /// Set when the explorer should close.
    public internal(set) var isFinished = false
    public internal(set) var ending: Ending?

    /// Exploring a model that is already analysed.
    public init(model: ModelDescription, analysis: ModelAnalysis, size: Size, comparison: Comparison? = nil,
                sensitivity: SensitivityTable? = nil, evaluationLimit: Int? = nil) {
        self.size = size
        phase = .exploring
        self.model = model
        self.analysis = analysis
        self.comparison = comparison
        self.sensitivity = sensitivity
        self.evaluationLimit = evaluationLimit
        settings = SelectionSettings(criterion: model.matchingCriterion)
        applySettings(settings)
        channel = channelOrder.first ?? 0
    }

    /// Training the default model first; the session starts the job.
    public init(training model: ModelDescription, size: Size, evaluationLimit: Int? = nil) {
        self.size = size
        phase = .training
        self.model = model
        self.evaluationLimit = evaluationLimit
        settings = SelectionSettings(criterion: model.matchingCriterion)
        job = RunningJob(kind: .train)
    }

    // MARK: Derived facts the views share

    public var layout: ScreenLayout { ScreenLayout(for: self) }

    /// The groups of the current coupled setting.
    public var variant: ModelAnalysis.Variant? { analysis?.variant(coupled: settings.coupled) }

    public var groups: [ChannelGroup] { variant?.groups.groups ?? [] }

    public var hasCoupledChannels: Bool { analysis?.coupled != nil }

    /// The model's figures after the current selection.
    public var figuresAfter: CostFigures? { walk?.selection.figures(after: settings.steps) }

    /// Share of FLOPs the current selection removes.
    public var removedShare: Double { walk?.selection.removedShare(after: settings.steps) ?? 0 }

    /// Whether the target is beyond what the cap and floor allow.
    public var isTargetUnreachable: Bool {
        walk.map { settings.target > $0.selection.reachableShare + 1e-12 } ?? false
    }

    /// True when quitting would lose a pruned model.
    public var hasUnsavedWork: Bool {
        results.models.contains { !$0.isSaved }
    }

    /// Channels of the current layer in display order.
    public var channelOrder: [Int] {
        guard let walk, group < walk.ascending.count else { return [] }
        switch order {
        case .energy: return walk.ascending[group]
        case .index: return Array(walk.ascending[group].indices)
        }
    }

    /// The groups the lists show (overview, sensitivity, comparison), filtered and sorted.
    public var rows: [Int] {
        guard let walk else { return [] }
        let needle = filter.lowercased()
        var rows = groups.indices.filter { needle.isEmpty || groups[$0].name.lowercased().contains(needle) }
        guard sort != .model else { return rows }
        let steps = settings.steps
        let key: (Int) -> Double
        switch sort {
        case .model: key = { Double($0) }
        case .taken: key = { -Double(walk.removedCount(group: $0, steps: steps)) / Double(max(1, walk.normalized[$0].count)) }
        case .freed: key = { -walk.freedShare(group: $0, steps: steps) }
        case .energy: key = { walk.medianEnergy[$0] }
        case .sensitivity:
            let curves = layerSensitivity
            key = { curves[$0].flatMap { $0.count > 4 ? $0[4] : nil } ?? .infinity }
        }
        let keys = rows.map(key)
        rows = zip(rows, keys).sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
        return rows
    }

    /// Per group of the current variant: top-1 after removing each share of
    /// `SensitivityTable.layerShares` of its channels, as far as measured.
    public var layerSensitivity: [[Double]?] {
        groups.map { sensitivity?.layerCurve(criterion: settings.criterion, group: $0.name) }
    }

    /// The walk's accuracy curve for the current settings, as far as measured.
    public var walkSensitivity: [SensitivityTable.WalkPoint]? {
        sensitivity?.walkCurve(settings.walkKey)
    }

    /// Whether every figure of the sensitivity analysis for the current settings is known.
    public var isSensitivityComplete: Bool {
        guard let sensitivity, analysis != nil else { return false }
        return sensitivity.isComplete(for: self)
    }

    /// The results page does not fit its box.
    public var resultsScrollable: Bool {
        ResultsView.lineCount(self) > layout.mainInner.height
    }

    public var canUndo: Bool { !undoStack.isEmpty }
    public var canRedo: Bool { !redoStack.isEmpty }
}

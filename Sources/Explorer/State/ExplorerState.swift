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
        case overview, group, results

        public var title: String {
            switch self {
            case .overview: "Overview"
            case .group: "Layer"
            case .results: "Results"
            }
        }
    }

    /// Boxes drawn over the view that take the keys while open.
    public enum Overlay: Equatable, Sendable {
        /// The key table, scrolled to `scroll`.
        case help(scroll: Int)
        /// "Quit anyway?", with the reason to ask.
        case confirmQuit(reason: String)
    }

    public enum ChannelOrder: Sendable {
        /// Ascending normalised energy: the walk's order, so the selection is on the left.
        case energy
        case index
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
    }

    /// How far the pruned model has been repaired; evaluations fill the matching row.
    public enum Stage: Sendable {
        case pruned, batchNormReestimated, fineTuned
    }

    /// The physically pruned model the session holds, as far as the screen is concerned.
    public struct PrunedModel: Equatable, Sendable {
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
    }

    public struct Results: Equatable, Sendable {
        public var dense: EvaluationSummary?
        public var denseSpeed: SpeedSummary?
        public var pruned: PrunedModel?
    }

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
    /// First layer row shown in the overview; first bar position shown in the layer view.
    public internal(set) var groupScroll = 0
    public internal(set) var channelScroll = 0

    public internal(set) var job: RunningJob?
    public internal(set) var results = Results()
    public internal(set) var message: Message?
    var undoStack: [SelectionSettings] = []
    var redoStack: [SelectionSettings] = []
    /// Set when the explorer should close.
    public internal(set) var isFinished = false

    /// Exploring a model that is already analysed.
    public init(model: ModelDescription, analysis: ModelAnalysis, size: Size) {
        self.size = size
        phase = .exploring
        self.model = model
        self.analysis = analysis
        settings = SelectionSettings(criterion: model.matchingCriterion)
        applySettings(settings)
    }

    /// Training the default model first; the session starts the job.
    public init(training model: ModelDescription, size: Size) {
        self.size = size
        phase = .training
        self.model = model
        settings = SelectionSettings(criterion: model.matchingCriterion)
        job = RunningJob(kind: .train)
    }

    // MARK: Derived facts the views share

    public var layout: ScreenLayout { ScreenLayout(size: size) }

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
        results.pruned.map { !$0.isSaved } ?? false
    }

    /// Channels of the current layer in display order.
    public var channelOrder: [Int] {
        guard let walk, group < walk.ascending.count else { return [] }
        switch order {
        case .energy: return walk.ascending[group]
        case .index: return Array(walk.ascending[group].indices)
        }
    }

    public var canUndo: Bool { !undoStack.isEmpty }
    public var canRedo: Bool { !redoStack.isEmpty }
}

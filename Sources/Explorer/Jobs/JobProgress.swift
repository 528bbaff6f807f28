import Canvas
import Engine
import Pruning

/// Where a running job is.
public struct JobProgress: Equatable, Sendable {
    /// Share of the whole job done, 0…1.
    public var share: Double
    /// The part under way, e.g. "pruned model" or "epoch 1/2".
    public var phase: String
    /// Work units per second (`unit`), when meaningful.
    public var rate: Double?
    public var unit: String
    /// Seconds since the job started.
    public var elapsedSeconds: Double
    /// Running figures, e.g. "loss 0.512  acc 81.3%".
    public var detail: String
    /// Says what `share` is a share of, when `phase` names a part ("of all").
    public var scope: String?
    /// The sensitivity job's figures so far.
    public var sensitivity: SensitivityTable?

    public init(share: Double, phase: String, rate: Double? = nil, unit: String = "img",
                elapsedSeconds: Double, detail: String = "", scope: String? = nil, sensitivity: SensitivityTable? = nil) {
        self.share = share; self.phase = phase; self.rate = rate; self.unit = unit
        self.elapsedSeconds = elapsedSeconds; self.detail = detail; self.scope = scope; self.sensitivity = sensitivity
    }
}

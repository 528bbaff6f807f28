/// One finished epoch.
public struct EpochSummary: Codable, Sendable {
    public var epoch: Int
    /// Mean cross-entropy over the epoch's examples.
    public var loss: Double
    public var accuracy: Double
    /// Mean over the epoch's batches of the regularizer's penalty (λ·Σ‖g‖ or λ·Σ|γ|) at the
    /// weights each batch started from; 0 without a regularizer. The objective is loss + penalty
    /// (+ weight decay).
    public var penalty: Double
    public var seconds: Double
}

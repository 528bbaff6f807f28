/// What one optimizer step saw.
public struct StepResult: Sendable {
    public var loss: Float
    public var penalty: Float
    public var correct: Int
    public var count: Int
}

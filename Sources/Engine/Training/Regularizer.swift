/// A penalty added to the loss during training. The pruning regularizers (GL, OICSR-GL,
/// L1-BN) plug in here; plain weight decay lives in SGD. A regularizer acts either through
/// its (sub)gradient, before the step, or as a proximal operator, after it.
public protocol Regularizer: AnyObject {
    /// Adds the penalty's (sub)gradient to the model's parameter gradients, if it has one
    /// to add; returns the penalty.
    func addGradient(to model: Model) -> Float
    /// Runs after every SGD step taken with `learningRate`.
    func afterStep(learningRate: Float)
}

extension Regularizer {
    public func afterStep(learningRate: Float) {}
}

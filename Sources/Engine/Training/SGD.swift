import Foundation

/// Stochastic gradient descent with momentum and L2 weight decay, with PyTorch's update:
/// g = ∇ + λ_wd·w;  v = μ·v + g (v = g on the first step);  w = w - lr·v.
/// Weight decay applies to every parameter, as `torch.optim.SGD(weight_decay=...)` does.
public final class SGD {
    public let parameters: [Parameter]
    public var momentum: Float
    public var weightDecay: Float
    private let velocities: [Tensor]
    private var started = false

    public init(parameters: [Parameter], momentum: Float = 0.9, weightDecay: Float = 5e-4) {
        self.parameters = parameters
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.velocities = parameters.map { Tensor(shape: $0.value.shape) }
    }

    public func step(learningRate: Float) {
        for (parameter, velocity) in zip(parameters, velocities) {
            let w = parameter.value.storage, g = parameter.gradient.storage, v = velocity.storage
            let (mu, decay, first) = (momentum, weightDecay, !started)
            for i in 0..<parameter.value.count {
                let grad = g[i] + decay * w[i]
                v[i] = first ? grad : mu * v[i] + grad
                w[i] -= learningRate * v[i]
            }
        }
        started = true
    }

    /// Momentum buffers, for checkpoints that resume training.
    public var state: [Tensor] { velocities }
    public func restore(state: [[Float]]) {
        for (velocity, values) in zip(velocities, state) { velocity.copy(from: values) }
        started = true
    }
}

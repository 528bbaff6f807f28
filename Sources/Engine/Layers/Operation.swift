// The contract every layer kind fulfils. As in llm.c, each layer is a forward/backward
// pair; the forward keeps exactly what its backward needs, and backward passes *add* into
// the input gradients, so a tensor read by several layers (a residual fork) collects them all.

/// Per-example shape of an activation: a spatial map (H, W, C) or a flat vector of
/// `channels` features.
public struct FeatureShape: Equatable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int
    public var isFlat: Bool

    public static func map(_ height: Int, _ width: Int, _ channels: Int) -> FeatureShape {
        FeatureShape(height: height, width: width, channels: channels, isFlat: false)
    }
    public static func vector(_ features: Int) -> FeatureShape {
        FeatureShape(height: 1, width: 1, channels: features, isFlat: true)
    }

    public var count: Int { height * width * channels }
    public var pixels: Int { height * width }
    /// Tensor shape for a batch: (N, H, W, C) or (N, F).
    public func batchShape(_ n: Int) -> [Int] { isFlat ? [n, channels] : [n, height, width, channels] }
    public var description: String { isFlat ? "\(channels)" : "\(channels)x\(height)x\(width)" }
}

/// How a parameter tensor is laid out, so checkpoints and pruning can index it.
public enum ParameterRole: Sendable, Equatable {
    /// Convolution filters stored (out, kh, kw, in); PyTorch stores (out, in, kh, kw).
    case convolutionWeight(out: Int, kernelHeight: Int, kernelWidth: Int, in: Int)
    /// Linear weights (out, in), as PyTorch.
    case linearWeight(out: Int, in: Int)
    /// One value per channel: biases, BatchNorm scale and shift.
    case perChannel
}

/// A trainable tensor and its gradient. `name` is the PyTorch state_dict name.
public final class Parameter {
    public let name: String
    public let role: ParameterRole
    public let value: Tensor
    public let gradient: Tensor

    init(name: String, shape: [Int], role: ParameterRole) {
        self.name = name
        self.role = role
        self.value = Tensor(shape: shape)
        self.gradient = Tensor(shape: shape)
    }
}

/// Non-trainable state saved with the model (BatchNorm running statistics).
public struct NamedTensor {
    public let name: String
    public let tensor: Tensor
}

/// A layer's forward/backward pair. Public so that each kind's rule (`LayerRule`) can make
/// its operation; the implementations stay inside the engine.
public protocol Operation: AnyObject {
    var outputShape: FeatureShape { get }
    var parameters: [Parameter] { get }
    var buffers: [NamedTensor] { get }
    /// Writes the output for a batch of `batch` examples; `output` is already shaped.
    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool)
    /// Adds parameter gradients and, for every non-nil entry of `inputGradients`, the
    /// gradient with respect to that input.
    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor,
                  _ inputGradients: [Tensor?], batch: Int)
}

extension Operation {
    public var parameters: [Parameter] { [] }
    public var buffers: [NamedTensor] { [] }
}

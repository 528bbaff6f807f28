/// Non-trainable state saved with the model (BatchNorm running statistics).
public struct NamedTensor {
    public let name: String
    public let tensor: Tensor
}

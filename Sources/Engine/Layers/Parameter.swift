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

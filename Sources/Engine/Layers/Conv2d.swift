/// 2-D convolution (no groups, no dilation) over NHWC activations.
final class Conv2dOp: Operation {
    let inputShape: FeatureShape
    let outputShape: FeatureShape
    let weight: Parameter
    let bias: Parameter?
    private var geometry: ConvGeometry
    private let scratch = Tensor(shape: [0])

    init(name: String, input: FeatureShape, outChannels: Int, kernel: Int, stride: Int, padding: Int, bias hasBias: Bool) {
        inputShape = input
        geometry = ConvGeometry(batch: 0, height: input.height, width: input.width, inChannels: input.channels,
                                outChannels: outChannels, kernelHeight: kernel, kernelWidth: kernel,
                                stride: stride, padding: padding)
        outputShape = .map(geometry.outHeight, geometry.outWidth, outChannels)
        weight = Parameter(name: name + ".weight", shape: [outChannels, kernel, kernel, input.channels],
                           role: .convolutionWeight(out: outChannels, kernelHeight: kernel, kernelWidth: kernel, in: input.channels))
        bias = hasBias ? Parameter(name: name + ".bias", shape: [outChannels], role: .perChannel) : nil
    }

    var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    private func prepare(batch: Int) {
        geometry.batch = batch
        scratch.reshape([ConvKernels.scratchCount(geometry)])
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        prepare(batch: batch)
        ConvKernels.forward(geometry, x: inputs[0].storage, w: weight.value.storage, bias: bias?.value.storage,
                            y: output.storage, scratch: scratch.storage)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        prepare(batch: batch)
        ConvKernels.backward(geometry, x: inputs[0].storage, w: weight.value.storage, dy: outputGradient.storage,
                             dw: weight.gradient.storage, dbias: bias?.gradient.storage,
                             dx: inputGradients[0]?.storage, scratch: scratch.storage)
    }
}

/// Fully connected layer on flat features.
final class LinearOp: Operation {
    let outputShape: FeatureShape
    let inFeatures: Int
    let weight: Parameter
    let bias: Parameter?

    init(name: String, inFeatures: Int, outFeatures: Int, bias hasBias: Bool) {
        self.inFeatures = inFeatures
        outputShape = .vector(outFeatures)
        weight = Parameter(name: name + ".weight", shape: [outFeatures, inFeatures], role: .linearWeight(out: outFeatures, in: inFeatures))
        bias = hasBias ? Parameter(name: name + ".bias", shape: [outFeatures], role: .perChannel) : nil
    }

    var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        LinearKernels.forward(x: inputs[0].storage, w: weight.value.storage, bias: bias?.value.storage, y: output.storage,
                              batch: batch, inFeatures: inFeatures, outFeatures: outputShape.channels)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        LinearKernels.backward(x: inputs[0].storage, w: weight.value.storage, dy: outputGradient.storage,
                               dw: weight.gradient.storage, dbias: bias?.gradient.storage, dx: inputGradients[0]?.storage,
                               batch: batch, inFeatures: inFeatures, outFeatures: outputShape.channels)
    }
}

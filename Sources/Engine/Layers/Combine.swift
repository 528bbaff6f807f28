// Layers that read two or more activations: channel concatenation and the channel gate.

/// Channels of n ≥ 2 activations of one spatial size, one after another (`torch.cat(…, 1)`):
/// output channel `offset_i + c` is channel c of input i, `offset_i` the channels before it.
final class ConcatOp: Operation {
    let outputShape: FeatureShape
    /// Channels of each input, in order.
    let widths: [Int]

    init(inputs: [FeatureShape]) {
        precondition(inputs.count >= 2, "concatenating \(inputs.count) input")
        let first = inputs[0]
        precondition(inputs.allSatisfy { $0.height == first.height && $0.width == first.width && $0.isFlat == first.isFlat },
                     "concatenating activations of different sizes: \(inputs)")
        widths = inputs.map(\.channels)
        let channels = widths.reduce(0, +)
        outputShape = first.isFlat ? .vector(channels) : .map(first.height, first.width, channels)
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        let rows = batch * outputShape.pixels
        var offset = 0
        for (input, width) in zip(inputs, widths) {
            CombineKernels.copyChannels(input.storage, rows: rows, width: width, into: output.storage,
                                        stride: outputShape.channels, offset: offset)
            offset += width
        }
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        let rows = batch * outputShape.pixels
        var offset = 0
        for (dx, width) in zip(inputGradients, widths) {
            if let dx {
                CombineKernels.addChannels(outputGradient.storage, stride: outputShape.channels, offset: offset,
                                           rows: rows, width: width, into: dx.storage)
            }
            offset += width
        }
    }
}

/// A map times a gate, channel by channel: inputs[0] is the map (N, H, W, C), inputs[1] the
/// gate, either one value per example and channel ((N, 1, 1, C) or (N, C), broadcast over the
/// map, as squeeze-excitation) or the map's own shape (elementwise).
final class MulOp: Operation {
    let outputShape: FeatureShape
    /// Whether the gate has one value per channel (broadcast) rather than one per element.
    let broadcast: Bool

    init(input: FeatureShape, gate: FeatureShape) {
        precondition(gate.channels == input.channels && (gate.pixels == 1 || gate.count == input.count),
                     "gate \(gate) does not fit \(input): it needs \(input.channels) channels, 1×1 or the map's size")
        outputShape = input
        broadcast = gate.count != input.count
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        if broadcast {
            CombineKernels.gateForward(x: inputs[0].storage, gate: inputs[1].storage, y: output.storage,
                                       batch: batch, pixels: outputShape.pixels, channels: outputShape.channels)
        } else {
            CombineKernels.multiply(inputs[0].storage, inputs[1].storage, into: output.storage, count: output.count)
        }
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        let (x, gate, dy) = (inputs[0].storage, inputs[1].storage, outputGradient.storage)
        if broadcast {
            CombineKernels.gateBackward(x: x, gate: gate, dy: dy, dx: inputGradients[0]?.storage,
                                        dgate: inputGradients[1]?.storage, batch: batch,
                                        pixels: outputShape.pixels, channels: outputShape.channels)
        } else {
            if let dx = inputGradients[0] { CombineKernels.multiplyAccumulate(dy, gate, into: dx.storage, count: output.count) }
            if let dgate = inputGradients[1] { CombineKernels.multiplyAccumulate(dy, x, into: dgate.storage, count: output.count) }
        }
    }
}

// Layers without parameters: ReLU, pooling, flatten and the residual sum.
// Pooling follows PyTorch's MaxPool2d/AvgPool2d/AdaptiveAvgPool2d over NHWC maps.

final class ReLUOp: Operation {
    let outputShape: FeatureShape
    init(input: FeatureShape) { outputShape = input }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        ElementwiseKernels.reluForward(x: inputs[0].storage, y: output.storage, count: output.count)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        guard let dx = inputGradients[0] else { return }
        ElementwiseKernels.reluBackward(y: output.storage, dy: outputGradient.storage, dx: dx.storage, count: output.count)
    }
}

final class MaxPoolOp: Operation {
    let outputShape: FeatureShape
    private var geometry: PoolGeometry
    /// Flat input index of each output's winner.
    private var argmax: UnsafeMutablePointer<Int32>
    private var argmaxCapacity = 0

    /// `ceilMode` is PyTorch's `ceil_mode`.
    init(input: FeatureShape, kernel: Int, stride: Int, padding: Int, ceilMode: Bool = false) {
        geometry = PoolGeometry(batch: 0, height: input.height, width: input.width, channels: input.channels,
                                kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
        precondition(geometry.outHeight >= 1 && geometry.outWidth >= 1, "pooling window larger than the padded input")
        outputShape = .map(geometry.outHeight, geometry.outWidth, input.channels)
        argmax = .allocate(capacity: 1)
    }

    deinit { argmax.deallocate() }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        geometry.batch = batch
        if output.count > argmaxCapacity {
            argmax.deallocate()
            argmaxCapacity = output.count
            argmax = .allocate(capacity: argmaxCapacity)
        }
        PoolKernels.maxForward(geometry, x: inputs[0].storage, y: output.storage, argmax: argmax)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        guard let dx = inputGradients[0] else { return }
        PoolKernels.maxBackward(geometry, dy: outputGradient.storage, argmax: argmax, dx: dx.storage)
    }
}

final class AvgPoolOp: Operation {
    let outputShape: FeatureShape
    private var geometry: PoolGeometry

    /// `ceilMode` is PyTorch's `ceil_mode`, `countPadding` its `count_include_pad`.
    init(input: FeatureShape, kernel: Int, stride: Int, padding: Int, ceilMode: Bool = false, countPadding: Bool = true) {
        geometry = PoolGeometry(batch: 0, height: input.height, width: input.width, channels: input.channels,
                                kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode, countPadding: countPadding)
        precondition(geometry.outHeight >= 1 && geometry.outWidth >= 1, "pooling window larger than the padded input")
        outputShape = .map(geometry.outHeight, geometry.outWidth, input.channels)
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        geometry.batch = batch
        PoolKernels.averageForward(geometry, x: inputs[0].storage, y: output.storage)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        guard let dx = inputGradients[0] else { return }
        geometry.batch = batch
        PoolKernels.averageBackward(geometry, dy: outputGradient.storage, dx: dx.storage)
    }
}

/// Mean over each of P×Q bins that tile the map: (N, H, W, C) → (N, P, Q, C). Bins follow
/// PyTorch (see `PoolKernels.adaptiveBin`); P×Q = 1×1 gives a 1×1 map, not a vector.
final class AdaptiveAvgPoolOp: Operation {
    let outputShape: FeatureShape
    private let input: FeatureShape

    init(input: FeatureShape, outHeight: Int, outWidth: Int) {
        precondition(outHeight >= 1 && outWidth >= 1, "adaptive pooling to \(outHeight)x\(outWidth)")
        self.input = input
        outputShape = .map(outHeight, outWidth, input.channels)
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        PoolKernels.adaptiveAverageForward(x: inputs[0].storage, batch: batch, height: input.height, width: input.width,
                                           channels: input.channels, outHeight: outputShape.height,
                                           outWidth: outputShape.width, y: output.storage)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        guard let dx = inputGradients[0] else { return }
        PoolKernels.adaptiveAverageBackward(dy: outputGradient.storage, batch: batch, height: input.height, width: input.width,
                                            channels: input.channels, outHeight: outputShape.height,
                                            outWidth: outputShape.width, dx: dx.storage)
    }
}

/// Mean over the whole map: (N, H, W, C) → (N, C).
final class GlobalAvgPoolOp: Operation {
    let outputShape: FeatureShape
    private let input: FeatureShape
    init(input: FeatureShape) { self.input = input; outputShape = .vector(input.channels) }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        PoolKernels.globalAverageForward(x: inputs[0].storage, batch: batch, pixels: input.pixels,
                                         channels: input.channels, y: output.storage)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        guard let dx = inputGradients[0] else { return }
        PoolKernels.globalAverageBackward(dy: outputGradient.storage, batch: batch, pixels: input.pixels,
                                          channels: input.channels, dx: dx.storage)
    }
}

/// (N, H, W, C) → (N, C·H·W) in PyTorch's (C, H, W) order.
final class FlattenOp: Operation {
    let outputShape: FeatureShape
    private let input: FeatureShape
    init(input: FeatureShape) { self.input = input; outputShape = .vector(input.count) }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        ElementwiseKernels.channelsFirst(inputs[0].storage, output.storage, batch: batch, pixels: input.pixels,
                                         channels: input.channels, inverse: false)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        guard let dx = inputGradients[0] else { return }
        ElementwiseKernels.channelsFirst(outputGradient.storage, dx.storage, batch: batch, pixels: input.pixels,
                                         channels: input.channels, inverse: true)
    }
}

/// The residual sum of two activations of the same shape.
final class AddOp: Operation {
    let outputShape: FeatureShape
    init(input: FeatureShape) { outputShape = input }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        ElementwiseKernels.add(inputs[0].storage, inputs[1].storage, into: output.storage, count: output.count)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        for case let dx? in inputGradients {
            ElementwiseKernels.accumulate(outputGradient.storage, into: dx.storage, count: output.count)
        }
    }
}

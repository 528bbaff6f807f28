/// 2-D convolution over NHWC activations, with PyTorch's stride, padding, dilation and groups.
/// The weight is stored (out, kh, kw, in/groups); PyTorch's is (out, in/groups, kh, kw).
/// A depthwise convolution (groups = in = out) runs its own direct kernel.
final class Conv2dOp: Operation {
    let inputShape: FeatureShape
    let outputShape: FeatureShape
    let weight: Parameter
    let bias: Parameter?
    private var geometry: ConvGeometry
    private var workers = 1
    private let scratch = Tensor(shape: [0])
    /// Winograd's transformed filters, kept while `keepsFilters` is on, and the tile they are
    /// for (nil: not transformed yet).
    private let keptFilters = Tensor(shape: [0])
    private var keptTile: ConvKernels.WinogradTile?

    /// Whether forward passes keep Winograd's transformed filters for the next: on only while
    /// the weights cannot change, around the slices of one inference pass (Model), so the
    /// first slice transforms them and the others reuse them. Turning it on or off forgets them.
    var keepsFilters = false {
        didSet { keptTile = nil }
    }

    /// `groups` must divide both `input.channels` and `outChannels`, and the dilated kernel
    /// must fit the padded input.
    init(name: String, input: FeatureShape, outChannels: Int, kernel: Int, stride: Int, padding: Int,
         dilation: Int = 1, groups: Int = 1, bias hasBias: Bool) {
        precondition(kernel >= 1 && stride >= 1 && padding >= 0 && dilation >= 1 && groups >= 1, "\(name): bad convolution sizes")
        precondition(input.channels % groups == 0 && outChannels % groups == 0,
                     "\(name): \(groups) groups do not divide \(input.channels) in and \(outChannels) out channels")
        inputShape = input
        geometry = ConvGeometry(batch: 0, height: input.height, width: input.width, inChannels: input.channels,
                                outChannels: outChannels, kernelHeight: kernel, kernelWidth: kernel,
                                stride: stride, padding: padding, dilation: dilation, groups: groups)
        precondition(geometry.outHeight >= 1 && geometry.outWidth >= 1, "\(name): kernel larger than the padded input")
        outputShape = .map(geometry.outHeight, geometry.outWidth, outChannels)
        let perGroup = input.channels / groups
        weight = Parameter(name: name + ".weight", shape: [outChannels, kernel, kernel, perGroup],
                           role: .convolutionWeight(out: outChannels, kernelHeight: kernel, kernelWidth: kernel, in: perGroup))
        bias = hasBias ? Parameter(name: name + ".bias", shape: [outChannels], role: .perChannel) : nil
    }

    var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    /// Fixes the batch and the part count for one pass and sizes the scratch for both.
    private func prepare(batch: Int) {
        geometry.batch = batch
        workers = KernelWorkers.count
        scratch.reshape([ConvKernels.scratchCount(geometry, workers: workers)])
    }

    /// The kept filters for this pass, when it keeps them and runs by Winograd: ready when
    /// an earlier pass transformed them for the same tile.
    private func filtersToKeep() -> ConvKernels.KeptFilters? {
        guard keepsFilters, case .winograd(let tile) = ConvKernels.forwardKernel(geometry) else { return nil }
        let ready = keptTile == tile
        if !ready { keptFilters.reshape([ConvKernels.winogradFilterCount(geometry, tile)]) }
        keptTile = tile
        return ConvKernels.KeptFilters(storage: keptFilters.storage, ready: ready)
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        prepare(batch: batch)
        ConvKernels.forward(geometry, x: inputs[0].storage, w: weight.value.storage, bias: bias?.value.storage,
                            y: output.storage, scratch: scratch.storage, workers: workers, kept: filtersToKeep())
    }

    /// The kernel a forward pass over `batch` images runs (ConvKernels.forwardKernel).
    func forwardKernel(batch: Int) -> ConvKernels.ForwardKernel {
        var g = geometry
        g.batch = batch
        return ConvKernels.forwardKernel(g)
    }

    /// Whether `forward(input:output:batch:epilogue:)` runs its epilogue chunk by chunk, while
    /// the chunk is in cache (the GEMM path; a depthwise convolution has its own kernel).
    var runsEpilogueByChunk: Bool { !geometry.isDepthwise }

    /// The forward pass, then `epilogue(rows)` on each chunk of output rows (N·P·Q of them)
    /// as soon as the chunk is written, on the worker that wrote it.
    func forward(input: Tensor, output: Tensor, batch: Int, epilogue: (Range<Int>) -> Void) {
        prepare(batch: batch)
        if runsEpilogueByChunk {
            ConvKernels.forwardByGEMM(geometry, x: input.storage, w: weight.value.storage, bias: bias?.value.storage,
                                      y: output.storage, scratch: scratch.storage, workers: workers, kept: filtersToKeep(),
                                      epilogue: epilogue)
        } else {
            ConvKernels.forward(geometry, x: input.storage, w: weight.value.storage, bias: bias?.value.storage,
                                y: output.storage, scratch: scratch.storage, workers: workers, kept: filtersToKeep())
            Parallel.forRanges(batch * geometry.pixels, costPerItem: outputShape.channels, epilogue)
        }
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        backward(inputs, output, outputGradient, inputGradients, overwrite: addingToInputs, batch: batch)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?],
                  overwrite: [Bool], batch: Int) {
        prepare(batch: batch)
        ConvKernels.backward(geometry, x: inputs[0].storage, w: weight.value.storage, dy: outputGradient.storage,
                             dw: weight.gradient.storage, dbias: bias?.gradient.storage,
                             dx: inputGradients[0]?.storage, scratch: scratch.storage, workers: workers,
                             accumulate: !overwrite[0])
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
        backward(inputs, output, outputGradient, inputGradients, overwrite: addingToInputs, batch: batch)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?],
                  overwrite: [Bool], batch: Int) {
        LinearKernels.backward(x: inputs[0].storage, w: weight.value.storage, dy: outputGradient.storage,
                               dw: weight.gradient.storage, dbias: bias?.gradient.storage, dx: inputGradients[0]?.storage,
                               batch: batch, inFeatures: inFeatures, outFeatures: outputShape.channels, accumulate: !overwrite[0])
    }
}

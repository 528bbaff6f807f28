/// BatchNorm over the channels of a map (PyTorch's BatchNorm2d). Training mode normalises
/// with batch statistics and updates the running ones; eval mode uses the running ones.
final class BatchNorm2dOp: Operation {
    /// PyTorch's defaults.
    static let defaultEps: Float = 1e-5, defaultMomentum: Float = 0.1
    /// Added to the variance before the square root.
    let eps: Float
    /// The running-average momentum the layer was built with.
    let configuredMomentum: Float
    /// Weight of the newest batch in the running averages; re-estimation sets 1/(k+1)
    /// for the k-th batch, which turns them into plain means over the batches seen.
    var momentum: Float

    let outputShape: FeatureShape
    let scale: Parameter      // γ, PyTorch's "weight"
    let shift: Parameter      // β, PyTorch's "bias"
    let runningMean: Tensor
    let runningVar: Tensor
    private let name: String

    // What the backward pass needs from the forward.
    private let xhat = Tensor(shape: [0])
    private let mean: Tensor
    private let invStd: Tensor
    private var lastForwardWasTraining = false
    // Reduction scratch: one slot per part, grown when the part count grows.
    private var partials: UnsafeMutablePointer<Double>
    private var partialsCapacity: Int
    private let sums: UnsafeMutablePointer<Double>
    private let coefficients: Tensor

    init(name: String, input: FeatureShape, eps: Float = defaultEps, momentum: Float = defaultMomentum) {
        self.name = name
        self.eps = eps
        self.configuredMomentum = momentum
        self.momentum = momentum
        outputShape = input
        let c = input.channels
        scale = Parameter(name: name + ".weight", shape: [c], role: .perChannel)
        shift = Parameter(name: name + ".bias", shape: [c], role: .perChannel)
        runningMean = Tensor(shape: [c])
        runningVar = Tensor(shape: [c])
        runningVar.fill(1)
        scale.value.fill(1)
        mean = Tensor(shape: [c])
        invStd = Tensor(shape: [c])
        coefficients = Tensor(shape: [3 * c])
        partialsCapacity = BatchNormKernels.partialsCount(channels: c, workers: KernelWorkers.count)
        partials = .allocate(capacity: partialsCapacity)
        sums = .allocate(capacity: 2 * c)
    }

    deinit {
        partials.deallocate()
        sums.deallocate()
    }

    var parameters: [Parameter] { [scale, shift] }
    var buffers: [NamedTensor] {
        [NamedTensor(name: name + ".running_mean", tensor: runningMean),
         NamedTensor(name: name + ".running_var", tensor: runningVar)]
    }

    /// The part count for one pass, with the reduction scratch sized for it.
    private func reductionWorkers() -> Int {
        let workers = KernelWorkers.count
        let needed = BatchNormKernels.partialsCount(channels: outputShape.channels, workers: workers)
        if needed > partialsCapacity {
            partials.deallocate()
            partials = .allocate(capacity: needed)
            partialsCapacity = needed
        }
        return workers
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        let rows = batch * outputShape.pixels, c = outputShape.channels
        xhat.reshape([rows * c])
        lastForwardWasTraining = training
        if training {
            let workers = reductionWorkers()
            BatchNormKernels.forwardTraining(
                x: inputs[0].storage, rows: rows, channels: c, gamma: scale.value.storage, beta: shift.value.storage,
                eps: eps, momentum: momentum, runningMean: runningMean.storage, runningVar: runningVar.storage,
                mean: mean.storage, invStd: invStd.storage, xhat: xhat.storage, y: output.storage,
                workers: workers, partials: partials, sums: sums)
        } else {
            BatchNormKernels.forwardEval(
                x: inputs[0].storage, rows: rows, channels: c, gamma: scale.value.storage, beta: shift.value.storage,
                eps: eps, runningMean: runningMean.storage, runningVar: runningVar.storage,
                mean: mean.storage, invStd: invStd.storage, xhat: xhat.storage, y: output.storage)
        }
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        backward(inputs, output, outputGradient, inputGradients, overwrite: addingToInputs, batch: batch)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?],
                  overwrite: [Bool], batch: Int) {
        let workers = reductionWorkers()
        BatchNormKernels.backward(
            dy: outputGradient.storage, xhat: xhat.storage, rows: batch * outputShape.pixels, channels: outputShape.channels,
            gamma: scale.value.storage, invStd: invStd.storage, training: lastForwardWasTraining,
            dgamma: scale.gradient.storage, dbeta: shift.gradient.storage, dx: inputGradients[0]?.storage,
            workers: workers, partials: partials, sums: sums, coefficients: coefficients.storage, accumulate: !overwrite[0])
    }

    // MARK: - Chains: BatchNorm, then optionally a residual sum and a ReLU (see ModelPlan)

    /// Training forward of the chain y = act(BN(input) [+ residual]) into `output`: the batch
    /// statistics in one pass, then one pass that writes y. Keeps no xhat: `backwardChain`
    /// recomputes it from the input, which the chain leaves untouched.
    func forwardChain(input: Tensor, residual: Tensor?, relu: Bool, output: Tensor, batch: Int) {
        let rows = batch * outputShape.pixels, c = outputShape.channels
        lastForwardWasTraining = true
        let workers = reductionWorkers()
        BatchNormKernels.statistics(
            x: input.storage, rows: rows, channels: c, eps: eps, momentum: momentum, runningMean: runningMean.storage,
            runningVar: runningVar.storage, mean: mean.storage, invStd: invStd.storage, workers: workers,
            partials: partials, sums: sums)
        BatchNormKernels.affine(gamma: scale.value.storage, beta: shift.value.storage, mean: mean.storage,
                                invStd: invStd.storage, channels: c, coefficients: coefficients.storage)
        applyAffine(input: input, residual: residual, relu: relu, output: output, rows: rows)
    }

    /// Eval forward of the same chain, with the running statistics.
    func forwardChainEvaluation(input: Tensor, residual: Tensor?, relu: Bool, output: Tensor, batch: Int) {
        prepareEvaluation()
        applyAffine(input: input, residual: residual, relu: relu, output: output, rows: batch * outputShape.pixels)
    }

    /// Fixes eval mode's affine map from the running statistics: (scale, shift), c each,
    /// valid until the next pass of this layer.
    @discardableResult
    func prepareEvaluation() -> (scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
        let c = outputShape.channels
        lastForwardWasTraining = false
        for j in 0..<c {
            mean[j] = runningMean[j]
            invStd[j] = 1 / (runningVar[j] + eps).squareRoot()
        }
        BatchNormKernels.affine(gamma: scale.value.storage, beta: shift.value.storage, mean: mean.storage,
                                invStd: invStd.storage, channels: c, coefficients: coefficients.storage)
        return (UnsafePointer(coefficients.storage), UnsafePointer(coefficients.storage + c))
    }

    private func applyAffine(input: Tensor, residual: Tensor?, relu: Bool, output: Tensor, rows: Int) {
        let c = outputShape.channels
        let (x, y, r) = (UnsafePointer(input.storage), output.storage, residual.map { UnsafePointer($0.storage) })
        let (a, b) = (UnsafePointer(coefficients.storage), UnsafePointer(coefficients.storage + c))
        Parallel.forRanges(rows, costPerItem: c) { range in
            BatchNormKernels.affineRows(range, x: x, channels: c, scale: a, shift: b, residual: r, relu: relu, y: y)
        }
    }

    /// Backward of the chain of the last `forwardChain` (or eval-mode pass): dγ and dβ added
    /// into; the input's and the residual's gradients written or added into as `overwrite…` say.
    func backwardChain(input: Tensor, output: Tensor, outputGradient: Tensor, relu: Bool,
                       inputGradient: Tensor?, overwriteInput: Bool, residualGradient: Tensor?, overwriteResidual: Bool,
                       batch: Int) {
        let workers = reductionWorkers()
        BatchNormKernels.backwardChain(
            dy: outputGradient.storage, y: output.storage, x: input.storage, rows: batch * outputShape.pixels,
            channels: outputShape.channels, mean: mean.storage, invStd: invStd.storage, gamma: scale.value.storage,
            training: lastForwardWasTraining, relu: relu, dgamma: scale.gradient.storage, dbeta: shift.gradient.storage,
            dx: inputGradient?.storage, accumulateDx: !overwriteInput,
            dresidual: residualGradient?.storage, accumulateResidual: !overwriteResidual,
            workers: workers, partials: partials, sums: sums, coefficients: coefficients.storage)
    }
}

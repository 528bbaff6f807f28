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
        let workers = reductionWorkers()
        BatchNormKernels.backward(
            dy: outputGradient.storage, xhat: xhat.storage, rows: batch * outputShape.pixels, channels: outputShape.channels,
            gamma: scale.value.storage, invStd: invStd.storage, training: lastForwardWasTraining,
            dgamma: scale.gradient.storage, dbeta: shift.gradient.storage, dx: inputGradients[0]?.storage,
            workers: workers, partials: partials, sums: sums, coefficients: coefficients.storage)
    }
}

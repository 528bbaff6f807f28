import Foundation

// Throughput and latency measurements for `oicsr bench`. Every figure of one report is
// measured in the same process, so ratios between them hold even on a noisy machine.

public enum Benchmark {
    /// Seconds since an arbitrary origin, monotonic.
    public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// What a measurement counts: elapsed time, or the CPU time of the whole process (all
    /// its threads), which other programs on a loaded machine disturb far less, and which
    /// at one worker compares two builds' work repeatably.
    public enum Clock: String, Sendable, CaseIterable {
        case wall, cpu

        func now() -> Double {
            switch self {
            case .wall: return Benchmark.now()
            case .cpu:
                var t = timespec()
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
                return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
            }
        }
    }

    /// Repeats `body` until `seconds` have passed (after one warm-up call); returns the
    /// best seconds per call by `clock`, the least disturbed by other load on a shared machine.
    public static func best(seconds: Double, minimumRuns: Int = 3, clock: Clock = .wall, _ body: () -> Void) -> Double {
        withoutActuallyEscaping(body) { best(seconds: seconds, minimumRuns: minimumRuns, clock: clock, alternating: [$0])[0] }
    }

    /// `best` of several bodies measured in turns, one call of each per round, so that a
    /// change in the machine's speed while they run (other load; a shared machine's cores may
    /// keep a slower pace for minutes at a time) touches each alike, and their ratio holds. Returns
    /// each body's best seconds per call.
    public static func best(seconds: Double, minimumRuns: Int = 3, clock: Clock = .wall, alternating bodies: [() -> Void]) -> [Double] {
        bodies.forEach { $0() }
        var best = [Double](repeating: .infinity, count: bodies.count)
        let start = now()
        var runs = 0
        while runs < minimumRuns || now() - start < seconds {
            for (index, body) in bodies.enumerated() {
                let t0 = clock.now()
                body()
                best[index] = min(best[index], clock.now() - t0)
            }
            runs += 1
        }
        return best
    }

    /// GFLOP/s of cblas_sgemm on square n×n matrices (2n³ flops per call), with BLAS using
    /// as many threads as the engine's workers: the peak the engine's kernels aim at.
    public static func sgemmGFLOPs(size n: Int = 1024, seconds: Double = 1, clock: Clock = .wall) -> Double {
        let a = Tensor(shape: [n, n]), b = Tensor(shape: [n, n]), c = Tensor(shape: [n, n])
        a.fill(0.5); b.fill(0.25)
        let t = best(seconds: seconds, clock: clock) { MatrixMultiply.multiply(a, b, into: c, m: n, n: n, k: n, threads: Parallel.workers) }
        return 2 * Double(n * n * n) / t / 1e9
    }

    /// GFLOP/s of the engine's convolution GEMM (`GEMM`: AVX-512 where the processor has
    /// it) on square n×n matrices, rows split across the workers as the convolutions split
    /// theirs: the peak the convolution layers are measured against.
    public static func engineGEMMGFLOPs(size n: Int = 1024, seconds: Double = 1, clock: Clock = .wall) -> Double {
        let a = Tensor(shape: [n, n]), b = Tensor(shape: [n, n]), c = Tensor(shape: [n, n])
        a.fill(0.5); b.fill(0.25)
        let workers = Parallel.workers, perPart = GEMM.scratchCount(n: n)
        let scratch = Tensor(shape: [workers * perPart])
        let t = best(seconds: seconds, clock: clock) {
            Parallel.forFixedParts(n, parts: workers, costPerItem: n * n) { part, rows in
                GEMM.multiply(transposeA: false, transposeB: false, m: rows.count, n: n, k: n, a: a.storage + rows.lowerBound * n,
                              lda: n, b: b.storage, ldb: n, accumulate: false, c: c.storage + rows.lowerBound * n, ldc: n,
                              scratch: scratch.storage + part * perPart)
            }
        }
        return 2 * Double(n * n * n) / t / 1e9
    }

    /// Which GEMM the convolutions use in this process: "avx512" or "openblas".
    public static var gemmImplementation: String { GEMM.implementation.rawValue }

    /// What `measure` times.
    public enum Phase: String, CaseIterable, Sendable {
        case train, inference, latency, convolution
    }

    public struct ModelFigures: Codable, Sendable {
        public var model: String
        public var macs: Int
        public var trainImagesPerSecond: Double
        /// FLOP/s of the training step, counting forward + backward as 3× the forward MACs × 2.
        public var trainGFLOPs: Double
        public var inferenceImagesPerSecond: Double
        public var latencyMilliseconds: Double
        /// FLOP/s of the convolution layers alone in a training step (forward, weight gradient
        /// and input gradient, 2 flops per MAC each), timed layer by layer at the training batch.
        public var convolutionGFLOPs: Double
    }

    /// Training step (batch `trainBatch`), inference (batch `inferenceBatch`) and batch-1
    /// latency of one architecture, on random data; figures of phases left out are 0.
    public static func measure(_ architecture: Architecture, trainBatch: Int = 128, inferenceBatch: Int = 256,
                               seconds: Double = 2, phases: Set<Phase> = Set(Phase.allCases),
                               clock: Clock = .wall) throws -> ModelFigures {
        let model = try Model(architecture: architecture, seed: 1)
        let macs = try ModelGraph(architecture).cost.macs
        let shape = architecture.inputShape
        func images(_ n: Int) -> Tensor {
            var generator = SeededGenerator(seed: 5)
            let t = Tensor(shape: [n, shape.height, shape.width, shape.channels])
            for i in 0..<t.count { t[i] = generator.nextNormal() }
            return t
        }
        var figures = ModelFigures(model: architecture.name, macs: macs, trainImagesPerSecond: 0, trainGFLOPs: 0,
                                   inferenceImagesPerSecond: 0, latencyMilliseconds: 0, convolutionGFLOPs: 0)
        if phases.contains(.train) {
            let labels = (0..<trainBatch).map { Int32($0 % architecture.classes) }
            var configuration = TrainingConfiguration()
            configuration.learningRate = 0.001
            let trainer = Trainer(model: model, configuration: configuration)
            let trainImages = images(trainBatch)
            let trainSeconds = best(seconds: seconds, clock: clock) {
                trainer.trainStep(images: trainImages, labels: labels, stepsPerEpoch: 1000)
            }
            figures.trainImagesPerSecond = Double(trainBatch) / trainSeconds
            figures.trainGFLOPs = 6 * Double(macs) * Double(trainBatch) / trainSeconds / 1e9
        }
        if phases.contains(.inference) {
            let inferenceImages = images(inferenceBatch)
            let inferenceSeconds = best(seconds: seconds, clock: clock) { model.forward(inferenceImages, training: false) }
            figures.inferenceImagesPerSecond = Double(inferenceBatch) / inferenceSeconds
        }
        if phases.contains(.latency) {
            let single = images(1)
            figures.latencyMilliseconds = 1000 * best(seconds: seconds / 2, minimumRuns: 20, clock: clock) { model.forward(single, training: false) }
        }
        if phases.contains(.convolution) {
            figures.convolutionGFLOPs = convolutionGFLOPs(model, images: images(trainBatch), seconds: seconds / 2, clock: clock)
        }
        return figures
    }

    /// GFLOP/s of the model's convolutions in a training step: each convolution's forward and
    /// backward passes timed on their own (best of repeated runs within `seconds` overall), on
    /// the activations of one training forward pass of `images`.
    static func convolutionGFLOPs(_ model: Model, images: Tensor, seconds: Double, clock: Clock = .wall) -> Double {
        model.forward(images, training: true)
        let batch = images.shape[0]
        let convolutions = model.nodes.enumerated().filter { $0.element.op is Conv2dOp }
        guard !convolutions.isEmpty else { return 0 }
        var flops = 0.0, time = 0.0
        for (index, node) in convolutions {
            let macs = Double(model.graph.cost.layers[index].macs) * Double(batch)
            let gradient = Tensor(shape: node.output.shape)
            gradient.fill(1e-3)
            let inputGradients = zip(node.inputs, node.inputGradients).map { input, g in g.map { _ in Tensor(shape: input.shape) } }
            let passes = inputGradients.contains { $0 != nil } ? 3.0 : 2.0
            let share = seconds / Double(convolutions.count)
            time += best(seconds: share, clock: clock) {
                node.op.forward(node.inputs, node.output, batch: batch, training: true)
                node.op.backward(node.inputs, node.output, gradient, inputGradients, batch: batch)
            }
            flops += 2 * macs * passes
        }
        return flops / time / 1e9
    }
}

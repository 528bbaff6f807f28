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

    /// Repeats `body` until `seconds` have passed (after one warm-up call); returns the
    /// best seconds per call, the least disturbed by other load on a shared machine.
    public static func best(seconds: Double, minimumRuns: Int = 3, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        let start = now()
        var runs = 0
        while runs < minimumRuns || now() - start < seconds {
            let t0 = now()
            body()
            best = min(best, now() - t0)
            runs += 1
        }
        return best
    }

    /// GFLOP/s of cblas_sgemm on square n×n matrices (2n³ flops per call), with BLAS using
    /// as many threads as the engine's workers: the peak the engine's kernels aim at.
    public static func sgemmGFLOPs(size n: Int = 1024, seconds: Double = 1) -> Double {
        let a = Tensor(shape: [n, n]), b = Tensor(shape: [n, n]), c = Tensor(shape: [n, n])
        a.fill(0.5); b.fill(0.25)
        let t = best(seconds: seconds) { MatrixMultiply.multiply(a, b, into: c, m: n, n: n, k: n, threads: Parallel.workers) }
        return 2 * Double(n * n * n) / t / 1e9
    }

    public struct ModelFigures: Codable, Sendable {
        public var model: String
        public var macs: Int
        public var trainImagesPerSecond: Double
        /// FLOP/s of the training step, counting forward + backward as 3× the forward MACs × 2.
        public var trainGFLOPs: Double
        public var inferenceImagesPerSecond: Double
        public var latencyMilliseconds: Double
    }

    /// Training step (batch `trainBatch`), inference (batch `inferenceBatch`) and batch-1
    /// latency of one architecture, on random data.
    public static func measure(_ architecture: Architecture, trainBatch: Int = 128, inferenceBatch: Int = 256,
                               seconds: Double = 2) throws -> ModelFigures {
        let model = try Model(architecture: architecture, seed: 1)
        let macs = try ModelGraph(architecture).cost.macs
        let shape = architecture.inputShape
        func images(_ n: Int) -> Tensor {
            var generator = SeededGenerator(seed: 5)
            let t = Tensor(shape: [n, shape.height, shape.width, shape.channels])
            for i in 0..<t.count { t[i] = generator.nextNormal() }
            return t
        }
        let labels = (0..<trainBatch).map { Int32($0 % architecture.classes) }
        var configuration = TrainingConfiguration()
        configuration.learningRate = 0.001
        let trainer = Trainer(model: model, configuration: configuration)
        let trainImages = images(trainBatch)
        let trainSeconds = best(seconds: seconds) {
            trainer.trainStep(images: trainImages, labels: labels, stepsPerEpoch: 1000)
        }
        let inferenceImages = images(inferenceBatch)
        let inferenceSeconds = best(seconds: seconds) { model.forward(inferenceImages, training: false) }
        let single = images(1)
        let latency = best(seconds: seconds / 2, minimumRuns: 20) { model.forward(single, training: false) }
        return ModelFigures(
            model: architecture.name, macs: macs,
            trainImagesPerSecond: Double(trainBatch) / trainSeconds,
            trainGFLOPs: 6 * Double(macs) * Double(trainBatch) / trainSeconds / 1e9,
            inferenceImagesPerSecond: Double(inferenceBatch) / inferenceSeconds,
            latencyMilliseconds: latency * 1000)
    }
}

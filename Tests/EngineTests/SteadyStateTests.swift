import Foundation
import Testing
import TestSupport
@testable import Engine

/// Once warm, a training step, an inference pass and an evaluation touch no fresh memory:
/// every activation, gradient and scratch buffer is reused, so the kernel never has to hand
/// out (and zero) new pages. Counted as the calling thread's minor page faults, with one
/// worker part so all the work runs on that thread. Checked with the engine's own GEMM: with
/// OICSR_GEMM=openblas, OpenBLAS's internal buffers touch a few dozen fresh pages over the
/// same rounds here (none in `oicsr bench`'s longer runs of one phase at a time).
@Suite("No allocation in the steady state")
struct SteadyStateTests {
    static func threadMinorFaults() -> Int {
        var usage = rusage()
        // RUSAGE_THREAD (Linux): this thread's counts only, not those of tests running beside it.
        getrusage(__rusage_who_t(1), &usage)
        return usage.ru_minflt
    }

    @Test(arguments: [BuiltInModel.convnetS, .resnet20])
    func noFreshPages(model: BuiltInModel) throws {
        try GEMM.$override.withValue(GEMM.processorHasAVX512 ? .avx512 : .openblas) { try withWorkers(1) {
            let architecture = model.architecture(input: [1, 16, 16], classes: 10)
            let trainer = Trainer(model: try Model(architecture: architecture, seed: 2), configuration: TrainingConfiguration())
            let images = Fixtures.random([32, 16, 16, 1], seed: 3), single = Fixtures.random([1, 16, 16, 1], seed: 4)
            let labels = (0..<32).map { Int32($0 % 10) }
            func round() {
                trainer.trainStep(images: images, labels: labels, stepsPerEpoch: 10)
                trainer.model.forward(images, training: false)
                trainer.model.forward(single, training: false)
            }
            round(); round()
            let before = Self.threadMinorFaults()
            for _ in 0..<3 { round() }
            // A few pages of slack for the small arrays of predictions and the allocator's own
            // bookkeeping; one fresh activation buffer alone would be dozens of pages.
            let faults = Self.threadMinorFaults() - before
            #expect(faults < 16, "\(model.rawValue): \(faults) fresh pages touched in three warm rounds")
        } }
    }
}

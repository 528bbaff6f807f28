import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Engine

/// The worker pool runs every part of every job exactly once, with its own number, and
/// returns only when all are done: back to back (helpers polling), after helpers went to
/// sleep, with more helpers than cores, from several threads at once, and from inside a part.
@Suite("Worker pool")
struct WorkerPoolTests {
    /// Counts, per part, how often it ran in the current job.
    final class Tally: Sendable {
        let counts: Mutex<[Int]>
        init(parts: Int) { counts = Mutex(Array(repeating: 0, count: parts)) }
        func record(_ part: Int) { counts.withLock { $0[part] += 1 } }
        /// Each part's count, read after `run` returned (so every part must have finished).
        var snapshot: [Int] { counts.withLock { $0 } }
    }

    static func runJobs(_ pool: WorkerPool, jobs: Int, sleepEvery: Int = 0) {
        for job in 0..<jobs {
            let parts = 1 + job % 9
            let tally = Tally(parts: parts)
            pool.run(parts: parts) { part in
                // Uneven parts, so helpers and the caller finish in every order.
                if part % 3 == job % 3 { for _ in 0..<(job % 50) { _ = tally.snapshot } }
                tally.record(part)
            }
            #expect(tally.snapshot == Array(repeating: 1, count: parts), "job \(job): parts ran \(tally.snapshot) times")
            if sleepEvery > 0 && job % sleepEvery == 0 {
                // Longer than the helpers poll: they go to sleep and must be woken.
                usleep(UInt32(WorkerPool.pollNanoseconds / 1000) * 2)
            }
        }
    }

    @Test(arguments: [(helpers: 1, cores: 2), (helpers: 3, cores: 8), (helpers: 7, cores: 2)])
    func everyPartRunsOnce(helpers: Int, cores: Int) {
        let pool = WorkerPool(helpers: helpers, cores: cores)
        Self.runJobs(pool, jobs: 5_000)
        Self.runJobs(pool, jobs: 60, sleepEvery: 3)
    }

    /// Four threads share one pool: one job holds it, the others run theirs on dispatch's
    /// threads meanwhile; every job still runs every part once.
    @Test func severalSubmittersAtOnce() {
        let pool = WorkerPool(helpers: 1, cores: 2)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in Self.runJobs(pool, jobs: 1_000) }
    }

    /// A part that splits its own work (the pool busy with the outer job) still completes.
    @Test func partsThatSplitAgain() {
        let pool = WorkerPool(helpers: 1, cores: 2)
        for job in 0..<200 {
            let tally = Tally(parts: 3 * 4)
            pool.run(parts: 3) { outer in
                pool.run(parts: 4) { inner in tally.record(outer * 4 + inner) }
            }
            #expect(tally.snapshot == Array(repeating: 1, count: 12), "job \(job): \(tally.snapshot)")
        }
    }
}

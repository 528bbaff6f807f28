import Canvas
import Engine
import Foundation
import Synchronization

/// What a job's code sees: progress reporting that doubles as the cancellation check.
public struct JobContext: Sendable {
    let mailbox: JobMailbox
    /// `Benchmark.now()` when the job started.
    let start: Double

    public var isCancelled: Bool { mailbox.isCancelled }

    /// Posts progress; returns false once the job should stop, which is what the engine's
    /// progress callbacks expect.
    @discardableResult
    public func report(share: Double, phase: String, rate: Double? = nil, unit: String = "img", detail: String = "",
                       scope: String? = nil, sensitivity: SensitivityTable? = nil) -> Bool {
        mailbox.post(JobProgress(share: min(max(share, 0), 1), phase: phase, rate: rate, unit: unit,
                                 elapsedSeconds: Benchmark.now() - start, detail: detail, scope: scope, sensitivity: sensitivity))
        return !mailbox.isCancelled
    }

    /// Throws `JobCancelled` once the job should stop.
    public func checkCancellation() throws(JobCancelled) {
        if mailbox.isCancelled { throw JobCancelled() }
    }
}

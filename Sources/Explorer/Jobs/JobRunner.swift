import Canvas
import Engine
import Foundation
import Synchronization

// Background jobs: one at a time, each on a thread of its own, talking to the UI thread
// through a mailbox. The engine's `Model` is a class that must not be shared between
// threads, so a job never receives one: it gets `ModelSnapshot`s (the checkpoint's bytes as
// a value), builds its own model objects from them, and hands back new snapshots. Only
// Sendable values cross, so Swift 6's checker proves the design rather than being told to
// trust it.

/// A model as a value: its checkpoint contents, ready to become a `Model` on any thread.
public struct ModelSnapshot: Sendable {
    public let file: SafeTensorsFile
    public let info: CheckpointInfo

    public init(_ model: Model, info: CheckpointInfo) {
        file = Checkpoint.file(for: model, info: info)
        self.info = info
    }

    /// A fresh model object with the snapshot's weights (validated as a checkpoint would be).
    public func model() throws -> Model {
        try Checkpoint.model(from: file, path: "(model in memory)").0
    }
}

/// What a finished job returns: the outcome for the state machine, and the models it made.
public struct JobResult: Sendable {
    public var outcome: JobOutcome
    /// A new dense model (the freshly trained default).
    public var dense: ModelSnapshot?
    /// A new or changed pruned model.
    public var pruned: ModelSnapshot?

    public init(outcome: JobOutcome, dense: ModelSnapshot? = nil, pruned: ModelSnapshot? = nil) {
        self.outcome = outcome
        self.dense = dense
        self.pruned = pruned
    }
}

/// Thrown by a job that noticed it was cancelled.
public struct JobCancelled: Error {
    public init() {}
}

/// How a job ended.
public enum JobCompletion: Sendable {
    case finished(JobResult)
    case failed(String)
    case cancelled
}

/// Between one job's thread and the UI thread: the latest progress (older reports are
/// simply replaced: the UI only ever draws the newest), the completion, and the cancel flag.
final class JobMailbox: Sendable {
    private struct Contents {
        var progress: JobProgress?
        var completion: JobCompletion?
    }

    private let contents = Mutex(Contents())
    private let cancelled = Atomic<Bool>(false)
    private let ended = Atomic<Bool>(false)

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    var hasEnded: Bool { ended.load(ordering: .acquiring) }

    func cancel() { cancelled.store(true, ordering: .relaxed) }

    func post(_ progress: JobProgress) {
        contents.withLock { $0.progress = progress }
    }

    func complete(_ completion: JobCompletion) {
        contents.withLock { $0.completion = completion }
        ended.store(true, ordering: .releasing)
    }

    /// Takes what arrived since the last call.
    func take() -> (progress: JobProgress?, completion: JobCompletion?) {
        contents.withLock { contents in
            defer { contents = Contents() }
            return (contents.progress, contents.completion)
        }
    }
}

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

/// Runs jobs. Use from one thread (the UI's).
public final class JobRunner {
    private var mailbox: JobMailbox?

    public init() {}

    public var isRunning: Bool { mailbox != nil }

    /// Starts `work` on a new thread. One job at a time: the state machine never asks for a
    /// second while one runs.
    public func start(_ work: @escaping @Sendable (JobContext) throws -> JobResult) {
        precondition(mailbox == nil, "a job is already running")
        let mailbox = JobMailbox()
        self.mailbox = mailbox
        let context = JobContext(mailbox: mailbox, start: Benchmark.now())
        let thread = Thread {
            do {
                mailbox.complete(.finished(try work(context)))
            } catch is JobCancelled {
                mailbox.complete(.cancelled)
            } catch {
                mailbox.complete(mailbox.isCancelled ? .cancelled : .failed(String(describing: error)))
            }
        }
        thread.name = "oicsr job"
        // Training and evaluation recurse little, but the engine's kernels keep some
        // scratch on the stack; Foundation's default for secondary threads is small.
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Asks the running job to stop at its next safe point.
    public func cancel() {
        mailbox?.cancel()
    }

    /// The running job's news since the last poll, as events for the state machine, and
    /// once it has finished, its result with the models it made (for the session to keep).
    public func poll() -> (events: [JobEvent], result: JobResult?) {
        guard let mailbox else { return ([], nil) }
        let (progress, completion) = mailbox.take()
        var events = progress.map { [JobEvent.progress($0)] } ?? []
        var result: JobResult?
        switch completion {
        case .finished(let finished)?:
            events.append(.finished(finished.outcome))
            result = finished
        case .failed(let problem)?:
            events.append(.failed(problem))
        case .cancelled?:
            events.append(.cancelled)
        case nil:
            break
        }
        if completion != nil { self.mailbox = nil }
        return (events, result)
    }

    /// Cancels the running job and waits up to `timeoutSeconds` for it to stop, so that a
    /// quitting explorer does not cut a save short. Jobs check for cancellation between
    /// batches, a fraction of a second apart.
    public func cancelAndWait(timeoutSeconds: Double = 5) {
        guard let mailbox else { return }
        mailbox.cancel()
        let deadline = Benchmark.now() + timeoutSeconds
        while !mailbox.hasEnded, Benchmark.now() < deadline { usleep(10_000) }
        self.mailbox = nil
    }
}

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

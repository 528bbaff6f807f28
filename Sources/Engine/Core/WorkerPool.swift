import Dispatch
import Foundation
import Synchronization

// The threads that run `Parallel`'s parts beside the calling thread.
//
// Why not `DispatchQueue.concurrentPerform` alone: a dispatch worker sleeps between calls, and
// waking a sleeping thread on an idle core took 20–45 µs on this machine's virtual cores
// (two parts of 29 µs each took 74 µs as a fork-join, more than one thread alone), while the
// parallel regions of a batch-1 pass last 5–50 µs each. So the calling thread mostly ran
// every part itself. Helpers that keep polling for a short while after each part are already
// running when the next region starts a few microseconds later (the same two parts: 29.5 µs).
//
// Protocol. `generation` is odd while no job is open and even while one is: the submitter
// writes the job (closed), opens it (even), takes parts itself, waits for all of them, closes
// it (odd) and waits until no helper is inside it before the job's closure goes out of scope.
// A helper that sees a new even generation announces itself in `active`, then reads the
// generation again: if it is still the one it saw, the submitter cannot have closed the job
// unseen (both sides write, then read the other's counter, sequentially consistent), so the
// job's fields stay valid until the helper leaves `active`. Parts are claimed from `nextPart`;
// part p is always given the number p, whichever thread runs it, so results and per-part
// scratch do not depend on which thread ran what.
//
// One job at a time: a call that finds the pool busy (another thread's job, or a part that
// itself splits work) runs on `concurrentPerform` as before.
final class WorkerPool: @unchecked Sendable {
    /// The pool of `Parallel.workers − 1` helpers, started at first use.
    static let shared = WorkerPool(helpers: Parallel.workers - 1, cores: ProcessInfoCores.count)

    /// How long a helper keeps polling for the next job before it sleeps: longer than the
    /// gaps between the regions of one pass, short enough that an idle process soon stops
    /// using the core.
    static let pollNanoseconds: UInt64 = 200_000

    private let generation = Atomic<Int>(1)
    private let nextPart = Atomic<Int>(0)
    private let finishedParts = Atomic<Int>(0)
    private let active = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    // Written only while the job is closed (odd generation) and no helper is active.
    private var parts = 0
    private var job: ((Int) -> Void)?
    // Helpers poll only when each has a core of its own; with more workers than cores a
    // polling helper would take the core from the thread whose part it waits for.
    private let polls: Bool
    private let wake = NSCondition()

    init(helpers: Int, cores: Int) {
        polls = helpers + 1 <= cores
        for index in 0..<max(0, helpers) {
            // The helpers hold their pool: a pool lives as long as the process.
            let thread = Thread { self.serve() }
            thread.name = "oicsr-worker-\(index + 1)"
            // Kernels keep their small scratch on the stack, as they did on dispatch's threads.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `body(part)` for every part in 0..<parts, the calling thread taking parts too;
    /// returns when all are done.
    func run(parts count: Int, _ body: (Int) -> Void) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            withoutActuallyEscaping(body) { body in
                let box = UncheckedBox(body)
                DispatchQueue.concurrentPerform(iterations: count) { part in box.value(part) }
            }
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            parts = count
            nextPart.store(0, ordering: .relaxed)
            finishedParts.store(0, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)  // open
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wake.lock()
                wake.broadcast()
                wake.unlock()
            }
            takeParts(body, count)
            waitUntil { finishedParts.load(ordering: .acquiring) == count }
            generation.add(1, ordering: .sequentiallyConsistent)  // closed
            waitUntil { active.load(ordering: .sequentiallyConsistent) == 0 }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    private func takeParts(_ body: (Int) -> Void, _ count: Int) {
        while true {
            let part = nextPart.add(1, ordering: .relaxed).oldValue
            guard part < count else { return }
            body(part)
            finishedParts.add(1, ordering: .releasing)
        }
    }

    /// Polls `done` briefly, then yields the core between polls: the parts waited for are
    /// short, but their thread may have been descheduled.
    private func waitUntil(_ done: () -> Bool) {
        var attempts = 0
        while !done() {
            attempts += 1
            if attempts > 1_000 { sched_yield() }
        }
    }

    /// A helper's loop: wait for a job that opens, take parts of it, repeat.
    private func serve() {
        var seen = generation.load(ordering: .acquiring)
        while true {
            seen = nextOpenGeneration(after: seen)
            active.add(1, ordering: .sequentiallyConsistent)
            if generation.load(ordering: .sequentiallyConsistent) == seen { takeJobParts() }
            active.subtract(1, ordering: .releasing)
        }
    }

    /// The helper's share of the open job. A function of its own so that its copy of the
    /// job's closure is released before the helper leaves `active`: the submitter's
    /// `withoutActuallyEscaping` checks, once no helper is active, that none is kept.
    @inline(never)
    private func takeJobParts() {
        guard let body = job else { return }
        takeParts(body, parts)
    }

    /// Polls for an even generation other than `seen` (for `pollNanoseconds` when helpers
    /// poll), then sleeps until one opens.
    private func nextOpenGeneration(after seen: Int) -> Int {
        func isNewJob(_ now: Int) -> Bool { now != seen && now & 1 == 0 }
        if polls {
            let deadline = DispatchTime.now().uptimeNanoseconds + Self.pollNanoseconds
            var count = 0
            while true {
                let now = generation.load(ordering: .acquiring)
                if isNewJob(now) { return now }
                count += 1
                if count & 63 == 0 && DispatchTime.now().uptimeNanoseconds > deadline { break }
            }
        }
        // Announce the sleep, then look again under the lock: either the submitter sees the
        // sleeper and broadcasts (under the same lock, so not before the wait starts), or
        // this look sees its generation.
        wake.lock()
        sleepers.add(1, ordering: .sequentiallyConsistent)
        var now = generation.load(ordering: .sequentiallyConsistent)
        while !isNewJob(now) {
            wake.wait()
            now = generation.load(ordering: .sequentiallyConsistent)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        wake.unlock()
        return now
    }
}

/// Carries a non-Sendable closure into `concurrentPerform`; sound for the reason `run` is
/// (`Parallel.forParts`).
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

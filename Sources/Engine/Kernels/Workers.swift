// How many parts the kernels cut their work into.
//
// Normally `Parallel.workers`. A caller may ask for another count on its own task: the tests
// run the kernels with 1 and 8 parts to show that results and scratch sizes follow the count
// whatever the machine has, without touching the process-wide setting other tests read.
// A kernel reads the count once per call, sizes its scratch by it, decides its split before
// any worker starts, and numbers scratch slots by part, never by thread; so a count that
// changes between two calls only changes how the work is shared, never which memory is used.

enum KernelWorkers {
    @TaskLocal static var override: Int?

    /// The part count for a kernel call starting now (at least 1).
    static var count: Int { max(1, override ?? Parallel.workers) }
}

extension Parallel {
    /// Runs `body(part, range)` for each of `parts` contiguous ranges of `0..<count`, the split
    /// decided here, before any worker starts: part p gets `count·p/parts ..< count·(p+1)/parts`.
    /// `parts` is clamped to 1…count. Parts run concurrently when the work is large enough;
    /// whichever thread runs a part, it gets that part's number, so per-part scratch is safe.
    /// Returns the number of parts used.
    @discardableResult
    static func forFixedParts(_ count: Int, parts requested: Int, costPerItem: Int = 1,
                              _ body: (Int, Range<Int>) -> Void) -> Int {
        guard count > 0 else { return 0 }
        let parts = max(1, min(requested, count))
        Parallel.forRanges(parts, costPerItem: (count / parts) * costPerItem) { partRange in
            for part in partRange {
                body(part, (count * part / parts)..<(count * (part + 1) / parts))
            }
        }
        return parts
    }
}

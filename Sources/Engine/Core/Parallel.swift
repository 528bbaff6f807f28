import Dispatch
import Foundation

// Work splitting for the kernels (im2row, GEMM, BatchNorm, pooling, ...). The machine has
// few cores, so work is cut into one contiguous range per worker, run by the worker pool
// (WorkerPool.swift); ranges too small to repay a thread hand-off run inline.

public enum Parallel {
    /// Environment variable setting the number of workers (1 to `maximumWorkers`); by
    /// default one per core, at most 8. Read once, at first use: kernels size their scratch
    /// by it, so it never changes while the process runs.
    public static let environmentVariable = "OICSR_THREADS"
    public static let maximumWorkers = 256

    /// Number of workers used for loops outside BLAS.
    public static let workers = configuredWorkers(environment: ProcessInfo.processInfo.environment) ?? defaultWorkers

    public static var defaultWorkers: Int { max(1, min(ProcessInfoCores.count, 8)) }

    /// The worker count `OICSR_THREADS` asks for; nil when it is unset, empty or not a count
    /// from 1 to `maximumWorkers` (the command line reports that as an error before any work).
    public static func configuredWorkers(environment: [String: String]) -> Int? {
        guard let text = environment[environmentVariable], let count = Int(text), (1...maximumWorkers).contains(count) else { return nil }
        return count
    }

    /// Runs `body(range)` over `0..<count`, split into contiguous ranges across workers when
    /// `count * costPerItem` is large enough to be worth it.
    @inline(__always)
    public static func forRanges(_ count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        forParts(count, costPerItem: costPerItem) { _, range in body(range) }
    }

    /// Like `forRanges`, also passing the part number (0..<workers), so that reductions can
    /// keep one partial result per part. The split depends only on `count` and `workers`,
    /// so results are repeatable.
    public static func forParts(_ count: Int, costPerItem: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        let parts = min(workers, count)
        if parts <= 1 || count * costPerItem < 32_768 {
            body(0, 0..<count)
            return
        }
        // Sound to run on other threads: the callers give every part its own range and its
        // own scratch (nothing shared is written), and `run` returns when all parts are done.
        WorkerPool.shared.run(parts: parts) { part in
            body(part, (count * part / parts)..<(count * (part + 1) / parts))
        }
    }
}

enum ProcessInfoCores {
    static var count: Int {
        #if os(Linux)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 2
        #endif
    }
}

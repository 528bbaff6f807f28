@testable import Engine

/// Runs `body` with the kernels cutting their work into `workers` parts. The count is bound
/// to the calling task only (a task-local), so tests running at the same time keep
/// `Parallel.workers` and nothing needs a lock. Threads still come from `Parallel`; what
/// changes is the split, the scratch sizes and the private partial sums, which is what a
/// kernel must get right for every worker count.
func withWorkers<R>(_ workers: Int, _ body: () throws -> R) rethrows -> R {
    try KernelWorkers.$override.withValue(workers, operation: body)
}

/// The worker counts the kernel and gradient tests run with: one, the machine's, and eight.
let workerCounts = Array(Set([1, Parallel.workers, 8])).sorted()

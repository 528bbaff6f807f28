import Canvas
import Engine
import Pruning

/// A message from a running job.
public enum JobEvent: Sendable {
    case progress(JobProgress)
    case finished(JobOutcome)
    case failed(String)
    case cancelled
}

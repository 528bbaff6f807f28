import Canvas
import Engine
import Foundation
import Synchronization

/// How a job ended.
public enum JobCompletion: Sendable {
    case finished(JobResult)
    case failed(String)
    case cancelled
}

import Canvas
import Engine
import Foundation
import Synchronization

/// Thrown by a job that noticed it was cancelled.
public struct JobCancelled: Error {
    public init() {}
}

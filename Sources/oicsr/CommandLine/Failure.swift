import Engine
import Foundation

// Errors become one line on stderr and an exit status, in one place.

/// A bad command line: the argument concerned and what is wrong with it.
struct UsageError: Error, CustomStringConvertible {
    var argument: String
    var problem: String
    var description: String { "\(argument): \(problem)" }
}

/// A failure that is not the input's fault (a write that failed, say).
struct RuntimeFailure: Error, CustomStringConvertible {
    var description: String
}

enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    /// Bad input: arguments, files, models.
    static let badInput: Int32 = 2
    static let interrupted: Int32 = 130
}

struct Interrupted: Error {}

enum Failure {
    /// The message and exit status for an error thrown by a command.
    static func report(_ error: any Error) -> Int32 {
        let (message, status): (String, Int32)
        switch error {
        case let e as UsageError: (message, status) = (e.description, ExitStatus.badInput)
        case let e as DataError: (message, status) = (e.description, ExitStatus.badInput)
        case let e as CheckpointError: (message, status) = (e.description, ExitStatus.badInput)
        case let e as ArchitectureError: (message, status) = (e.description, ExitStatus.badInput)
        case let e as FileIOError: (message, status) = (e.description, ExitStatus.failure)
        case let e as RuntimeFailure: (message, status) = (e.description, ExitStatus.failure)
        case is Interrupted: return ExitStatus.interrupted
        default: (message, status) = ("\(error)", ExitStatus.failure)
        }
        Console.error("oicsr: " + message)
        return status
    }
}

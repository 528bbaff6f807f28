// Every failure to load a data set names the file (or folder) and says what is wrong with
// it, so that a user can fix the data without reading the code.

/// A data set file or folder that cannot be used: `description` reads "<file>: <problem>".
public struct DataError: Error, CustomStringConvertible, Sendable {
    /// The file or folder concerned.
    public let file: String
    /// What is wrong: what was expected and what was found.
    public let problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}

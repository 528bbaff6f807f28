import Canvas
import Engine
import Foundation
import Synchronization

/// A model as a value: its checkpoint contents, ready to become a `Model` on any thread.
public struct ModelSnapshot: Sendable {
    public let file: SafeTensorsFile
    public let info: CheckpointInfo

    public init(_ model: Model, info: CheckpointInfo) {
        file = Checkpoint.file(for: model, info: info)
        self.info = info
    }

    /// A fresh model object with the snapshot's weights (validated as a checkpoint would be).
    public func model() throws -> Model {
        try Checkpoint.model(from: file, path: "(model in memory)").0
    }
}

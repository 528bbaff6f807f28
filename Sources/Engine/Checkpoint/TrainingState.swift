import Foundation

// What `--resume` needs beyond the model checkpoint: the optimizer's momentum buffers and
// how far training got. Kept in a file of its own beside the checkpoint
// ("<checkpoint>.state"), so the checkpoint itself stays a plain PyTorch state_dict. The two
// are written one after the other, so both carry a token drawn afresh at every save: a
// resume checks that they match, and refuses a pair that a kill between the writes split.

public enum TrainingState {
    public static func path(forCheckpoint checkpoint: String) -> String { checkpoint + ".state" }

    /// A fresh token for one save of a checkpoint and its state.
    public static func newToken() -> String { UUID().uuidString }

    /// Saves the momentum buffers, the number of epochs completed and the save's token.
    public static func save(_ trainer: Trainer, epochsCompleted: Int, token: String, checkpoint: String) throws {
        let tensors = zip(trainer.optimizer.parameters, trainer.optimizer.state).map {
            SafeTensorsFile.NamedArray(name: $0.name + ".momentum_buffer", shape: $1.shape, values: $1.values)
        }
        let metadata = ["oicsr.epochs_completed": String(epochsCompleted), "oicsr.step": String(trainer.step), "oicsr.resume_token": token]
        try SafeTensorsFile(tensors: tensors, metadata: metadata).write(path: path(forCheckpoint: checkpoint))
    }

    /// Restores the momentum buffers into `trainer`; returns the number of epochs completed.
    /// `token` is the checkpoint's; a state written by another save is refused.
    public static func restore(into trainer: Trainer, checkpoint: String, token: String?) throws -> Int {
        let statePath = path(forCheckpoint: checkpoint)
        let file = try SafeTensorsFile.read(path: statePath)
        guard let token, file.metadata["oicsr.resume_token"] == token else {
            throw CheckpointError(file: statePath, problem: "was not written with \(checkpoint) (an interrupted save left them at different epochs); the run cannot continue exactly: train again without --resume")
        }
        guard let epochs = file.metadata["oicsr.epochs_completed"].flatMap(Int.init), epochs >= 0 else {
            throw CheckpointError(file: statePath, problem: "metadata 'oicsr.epochs_completed' is missing or not a count")
        }
        var buffers: [[Float]] = []
        for parameter in trainer.optimizer.parameters {
            guard let stored = file[parameter.name + ".momentum_buffer"], stored.shape == parameter.value.shape else {
                throw CheckpointError(file: statePath, problem: "momentum for '\(parameter.name)' is missing or has the wrong shape")
            }
            buffers.append(stored.values)
        }
        trainer.optimizer.restore(state: buffers)
        return epochs
    }
}

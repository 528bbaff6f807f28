import Foundation

// What `--resume` needs beyond the model checkpoint: the optimizer's momentum buffers and
// how far training got. Kept in a file of its own beside the checkpoint
// ("<checkpoint>.state"), so the checkpoint itself stays a plain PyTorch state_dict.

public enum TrainingState {
    public static func path(forCheckpoint checkpoint: String) -> String { checkpoint + ".state" }

    /// Saves the momentum buffers and the number of epochs completed.
    public static func save(_ trainer: Trainer, epochsCompleted: Int, checkpoint: String) throws {
        let tensors = zip(trainer.optimizer.parameters, trainer.optimizer.state).map {
            SafeTensorsFile.NamedArray(name: $0.name + ".momentum_buffer", shape: $1.shape, values: $1.values)
        }
        let metadata = ["oicsr.epochs_completed": String(epochsCompleted), "oicsr.step": String(trainer.step)]
        try SafeTensorsFile(tensors: tensors, metadata: metadata).write(path: path(forCheckpoint: checkpoint))
    }

    /// Restores the momentum buffers into `trainer`; returns the number of epochs completed.
    public static func restore(into trainer: Trainer, checkpoint: String) throws -> Int {
        let statePath = path(forCheckpoint: checkpoint)
        let file = try SafeTensorsFile.read(path: statePath)
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

import Foundation
import Testing
import Engine
import Pruning

// Sizes from untrusted files are checked before they are used, diverged training keeps the
// last finite checkpoint, and a checkpoint whose `.state` comes from another save is not
// resumed on the wrong weights.

@Suite("Limits, divergence and resume state")
struct LimitTests {
    /// A checkpoint of the tiny model whose metadata architecture is edited by `edit`.
    static func editedCheckpoint(_ w: Workspace, name: String, edit: (inout [String: Any]) -> Void) throws {
        var file = try SafeTensorsFile.read(path: w.path("tiny.safetensors"))
        var architecture = try JSONSerialization.jsonObject(with: Data(file.metadata["oicsr.architecture"]!.utf8)) as! [String: Any]
        edit(&architecture)
        file.metadata["oicsr.architecture"] = String(decoding: try JSONSerialization.data(withJSONObject: architecture), as: UTF8.self)
        try file.write(path: w.path(name))
    }

    static func setConv1(_ key: String, _ value: Int) -> (inout [String: Any]) -> Void {
        { architecture in
            var layers = architecture["layers"] as! [[String: Any]]
            layers[0][key] = value
            architecture["layers"] = layers
        }
    }

    @Test func hugeSizesInACheckpointAreRefusedBeforeAnythingIsAllocated() throws {
        let w = try Workspace()
        #expect(try w.train().status == 0)
        try Self.editedCheckpoint(w, name: "wide.safetensors", edit: Self.setConv1("out", 1 << 62))
        try Self.editedCheckpoint(w, name: "padded.safetensors", edit: Self.setConv1("padding", 1 << 61))
        try Self.editedCheckpoint(w, name: "billion.safetensors", edit: Self.setConv1("out", 1_000_000_000))
        for command in ["info", "eval", "energies", "prune", "explore"] {
            for (file, field) in [("wide.safetensors", "out"), ("padded.safetensors", "padding"), ("billion.safetensors", "out")] {
                var arguments = [command, file]
                if command == "prune" { arguments += ["--flops", "0.3", "--dry-run"] }
                if command == "eval" { arguments += ["--data", w.data.path] }
                let run = try CLI.run(arguments, in: w.folder)
                CLITests.expectRejected(run, mentioning: [file, "conv1", field, "at most"])
            }
        }
    }

    @Test func hugeArchitecturesGetLimitsNotNegativeFigures() throws {
        let w = try Workspace()
        let json = #"{"name": "huge", "input": [3, 1048576, 1048576], "classes": 10, "layers": [{"name": "gap", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 10}]}"#
        try Data(json.utf8).write(to: URL(fileURLWithPath: w.path("huge.json")))
        CLITests.expectRejected(try w.oicsr("info", "huge.json"), mentioning: ["huge.json", "input"])
        let wide = #"{"name": "wide", "input": [1, 28, 28], "classes": 10, "layers": [{"name": "c", "kind": "conv2d", "out": 1000000, "kernel": 3}, {"name": "d", "kind": "conv2d", "out": 1000000, "kernel": 3}, {"name": "gap", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 10}]}"#
        try Data(wide.utf8).write(to: URL(fileURLWithPath: w.path("wide.json")))
        CLITests.expectRejected(try w.oicsr("info", "wide.json"), mentioning: ["wide.json", "'d'", "parameters"])
        CLITests.expectRejected(try CLI.run(["train", "--model", "wide.json", "--data", w.data.path], in: w.folder), mentioning: ["wide.json", "parameters"])
    }

    @Test func divergedTrainingKeepsTheLastFiniteCheckpoint() throws {
        let w = try Workspace()
        let run = try CLI.run(["train", "--model", "tiny.json", "--data", w.data.path, "--epochs", "2", "--lr", "1e6", "--out", "nan.safetensors"],
                              in: w.folder)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("diverged") && run.stderr.contains("--lr"))
        if FileManager.default.fileExists(atPath: w.path("nan.safetensors")) {
            let (model, _) = try Checkpoint.load(path: w.path("nan.safetensors"))
            #expect(model.hasFiniteWeights)
        }
    }

    @Test func aStateFromAnotherSaveIsNotResumed() throws {
        let w = try Workspace()
        let arguments = ["train", "--model", "tiny.json", "--data", w.data.path, "--epochs", "3", "--batch-size", "32"]
        // Two runs of one epoch each: a checkpoint from one and a state from the other, as a
        // kill between the two writes would leave them.
        #expect(try CLI.run(["train", "--model", "tiny.json", "--data", w.data.path, "--epochs", "1", "--out", "b.safetensors"], in: w.folder).status == 0)
        #expect(try CLI.run(["train", "--model", "tiny.json", "--data", w.data.path, "--epochs", "1", "--seed", "2", "--out", "c.safetensors"], in: w.folder).status == 0)
        try FileManager.default.removeItem(atPath: w.path("b.safetensors.state"))
        try FileManager.default.copyItem(atPath: w.path("c.safetensors.state"), toPath: w.path("b.safetensors.state"))
        let resumed = try CLI.run(arguments + ["--out", "b.safetensors", "--resume"], in: w.folder)
        CLITests.expectRejected(resumed, mentioning: ["b.safetensors.state", "--resume"])
    }
}

// The session with real background jobs on a tiny synthetic data set: pruning, evaluating,
// re-estimating BatchNorm, fine-tuning and saving run on their own thread while the state
// machine keeps answering, and their results land in the before/after panel.

import Engine
import Canvas
import Explorer
import Foundation
import Pruning
import Testing

@Suite("Explorer session with background jobs", .serialized)
struct SessionTests {
    /// Random 28x28 images in 10 classes: enough for every job to run, in seconds.
    static func data(train: Int = 64, test: Int = 32) -> DataSplits {
        var generator = SeededGenerator(seed: 3)
        func split(_ count: Int) -> Dataset {
            Dataset(name: "synthetic", channels: 1, height: 28, width: 28, classes: 10,
                    classNames: (0..<10).map(String.init),
                    images: (0..<(count * 784)).map { _ in UInt8(generator.nextIndex(below: 256)) },
                    labels: (0..<count).map { Int32($0 % 10) })
        }
        return DataSplits(train: split(train), test: split(test))
    }

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("oicsr-session-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Polls until no job runs, failing after `seconds`.
    static func waitForJob(_ session: ExplorerSession, seconds: Double = 120) {
        let deadline = Date().addingTimeInterval(seconds)
        while session.isJobRunning || session.state.job != nil {
            session.poll()
            if Date() > deadline {
                Issue.record("the job did not finish within \(seconds) s")
                return
            }
            usleep(10_000)
        }
    }

    @Test func pruneEvaluateRepairAndSave() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 1)
        var info = CheckpointInfo(architecture: model.architecture, normalization: .identity(channels: 1), dataset: "synthetic",
                                  classNames: (0..<10).map(String.init))
        info.record(Recipe(regularizer: Recipe.Regularization(kind: .oicsrGL, lambda: 1e-4)))
        let source = folder.appendingPathComponent("tiny.safetensors").path
        try Checkpoint.save(model, info: info, to: source)
        let session = try ExplorerSession(model: model, info: info, path: source, data: Self.data(), size: Size(width: 100, height: 30))

        for key: Key in [">", ">", ">", "p"] { session.handle(key) }
        #expect(session.state.job?.kind == .prune)
        session.handle("j")
        #expect(session.state.group == 1, "keys are answered while the job runs")
        Self.waitForJob(session)
        let pruned = try #require(session.state.results.pruned)
        #expect(pruned.after.macs < pruned.before.macs)
        #expect(pruned.after.macs == session.state.walk?.selection.figures(after: pruned.settings.steps).macs,
                "the pruned model costs what the selection said")

        session.handle("e")
        Self.waitForJob(session)
        #expect(session.state.results.dense?.count == 32)
        #expect(session.state.results.pruned?.afterPruning != nil)
        #expect(session.state.results.pruned?.speed != nil && session.state.results.denseSpeed != nil)

        session.handle("b")
        Self.waitForJob(session)
        #expect(session.state.results.pruned?.afterBatchNorm != nil)
        session.handle("f")
        Self.waitForJob(session)
        #expect(session.state.results.pruned?.afterFineTuning != nil)
        #expect(session.state.hasUnsavedWork)

        session.handle("s")
        Self.waitForJob(session)
        let saved = try #require(session.state.results.pruned?.savedPath)
        #expect(saved == folder.appendingPathComponent("tiny-pruned-30.safetensors").path)
        let (reloaded, savedInfo) = try Checkpoint.load(path: saved)
        #expect(reloaded.graph.cost.macs == pruned.after.macs)
        let recipe = try savedInfo.recipe(file: saved)
        #expect(recipe.pruning?.source == source && recipe.pruning?.criterion == .outIn && savedInfo.metrics["top1"] != nil)
        #expect(recipe.regularizer.kind == .oicsrGL, "the source's training is part of the pruned model's recipe")
        let keptChannels: Int = recipe.pruning?.kept.values.reduce(0) { $0 + $1.count } ?? -1
        #expect(keptChannels == pruned.after.channels)
        #expect(!session.state.hasUnsavedWork)
        #expect(try Checkpoint.load(path: source).0.architecture == model.architecture, "the source is untouched")

        // A second save of the same model is refused; after a change it picks a new name.
        session.handle("b")
        Self.waitForJob(session)
        session.handle("s")
        Self.waitForJob(session)
        #expect(session.state.results.pruned?.savedPath == folder.appendingPathComponent("tiny-pruned-30-2.safetensors").path)
        session.handle("q")
        #expect(session.isFinished)
    }

    @Test func trainsTheDefaultModelIntoTheCacheThenExplores() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = DefaultModel.cachePath(environment: ["XDG_CACHE_HOME": folder.path], dataset: "synthetic", limit: 64)
        #expect(cache == folder.path + "/oicsr/convnet-s-oicsr-gl-synthetic-first64.safetensors")
        let session = ExplorerSession(trainingDefaultInto: cache, data: Self.data(), size: Size(width: 80, height: 24))
        #expect(session.state.phase == .training)
        #expect(ExplorerView.render(session.state, size: Size(width: 80, height: 24)).lines.joined().contains("Training convnet-s"))
        Self.waitForJob(session, seconds: 300)
        #expect(session.state.phase == .exploring)
        #expect(session.state.results.dense != nil)
        let (_, info) = try Checkpoint.load(path: cache)
        let recipe = try info.recipe(file: cache)
        #expect(recipe.regularizer.kind == .oicsrGL && recipe.regularizer.lambda == RegularizerChoice.defaultLambda(.oicsrGL))
        #expect(recipe.training?.epochs == DefaultModel.configuration.epochs && recipe.training?.trainExamples == 64)
        session.handle("+")
        #expect(session.state.settings.steps > 0)
    }

    @Test func cancellingTheFirstTrainingQuitsAndCachesNothing() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = folder.appendingPathComponent("oicsr/default.safetensors").path
        let session = ExplorerSession(trainingDefaultInto: cache, data: Self.data(train: 5_000), size: Size(width: 80, height: 24))
        session.handle(.escape)
        Self.waitForJob(session)
        #expect(session.isFinished)
        #expect(!FileManager.default.fileExists(atPath: cache))
    }

    @Test func defaultCacheFolderFollowsXDG() {
        #expect(DefaultModel.cacheFolder(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]) == "/x/cache/oicsr")
        #expect(DefaultModel.cacheFolder(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/home/u"]) == "/home/u/.cache/oicsr")
        #expect(DefaultModel.cachePath(environment: ["HOME": "/home/u"], dataset: "fashion-mnist", limit: nil)
                == "/home/u/.cache/oicsr/convnet-s-oicsr-gl.safetensors")
    }
}

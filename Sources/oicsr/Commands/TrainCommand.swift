import Engine
import Pruning
import Explorer
import Foundation

enum TrainCommand {
    static let spec = CommandSpec(
        name: "train", summary: "Train a model on a data set and save it as a safetensors checkpoint.",
        usage: "train [--model NAME|FILE] [options]",
        options: [
            OptionSpec(name: "model", value: "NAME|FILE", help: "built-in (convnet-s, resnet20, resnet56), architecture .json, or checkpoint to continue from (default convnet-s)"),
            OptionSpec(name: "data", value: "DIR", help: "data folder: MNIST-format IDX or CIFAR binary (default $OICSR_DATA, else Fashion-MNIST)"),
            OptionSpec(name: "epochs", value: "N", help: "epochs (default 2)"),
            OptionSpec(name: "batch-size", value: "N", help: "batch size (default 128)"),
            OptionSpec(name: "lr", value: "X", help: "base learning rate (default 0.05)"),
            OptionSpec(name: "schedule", value: "KIND", help: "cosine, step (x0.1 at 50% and 75% of the epochs) or constant (default cosine)"),
            OptionSpec(name: "momentum", value: "X", help: "SGD momentum (default 0.9)"),
            OptionSpec(name: "weight-decay", value: "X", help: "L2 weight decay (default 5e-4)"),
            OptionSpec(name: "reg", value: "KIND", help: "regularizer: l2 (weight decay only), gl, oicsr-gl or l1-bn (default l2)"),
            OptionSpec(name: "lambda", value: "X", help: "regularizer strength λ (default: the study's choice for convnet-s, see docs/oicsr-study.md)"),
            OptionSpec(name: "reg-step", value: "KIND", help: "proximal (soft-threshold after each step, default) or subgradient"),
            OptionSpec(name: "coupled", value: nil, help: "regularize the residual channels coupled across a stage too"),
            OptionSpec(name: "seed", value: "N", help: "seed for initialisation, shuffling and augmentation (default 1)"),
            OptionSpec(name: "limit", value: "N", help: "use only the first N training and test examples"),
            OptionSpec(name: "out", value: "FILE", help: "checkpoint to write (default MODEL.safetensors); saved after every epoch"),
            OptionSpec(name: "resume", value: nil, help: "continue the interrupted run that writes --out"),
            OptionSpec(name: "force", value: nil, help: "replace --out if it exists"),
            OptionSpec(name: "json", value: nil, help: "print the result as JSON"),
        ])

    enum Schedule: String, CaseIterable { case cosine, step, constant }

    struct Result: Encodable {
        var checkpoint: String
        var model: String
        var dataset: String
        var epochs: [EpochSummary]
        var test: Evaluation
    }

    static func run(_ arguments: ParsedArguments) throws {
        let source = try ModelSource(arguments.string("model") ?? "convnet-s", flag: "--model")
        var configuration = TrainingConfiguration()
        configuration.epochs = try arguments.integer("epochs", default: 2)
        configuration.batchSize = try arguments.integer("batch-size", default: 128)
        configuration.learningRate = Float(try arguments.number("lr", default: 0.05, above: 0))
        configuration.momentum = Float(try arguments.number("momentum", default: 0.9, above: 0, below: 1, allowLowest: true))
        configuration.weightDecay = Float(try arguments.number("weight-decay", default: 5e-4, above: 0, allowLowest: true))
        configuration.seed = UInt64(try arguments.integer("seed", default: 1, minimum: 0))
        switch try arguments.choice("schedule", default: Schedule.cosine) {
        case .cosine: configuration.schedule = .cosine
        case .constant: configuration.schedule = .constant
        case .step: configuration.schedule = .step(milestones: [configuration.epochs / 2, configuration.epochs * 3 / 4], factor: 0.1)
        }
        let kind = try arguments.choice("reg", default: RegularizerKind.l2)
        if kind == .l2 && arguments.string("lambda") != nil {
            throw UsageError(argument: "--lambda", problem: "needs --reg gl, oicsr-gl or l1-bn (l2 is weight decay only: --weight-decay)")
        }
        var regularizer = RegularizerChoice(
            kind: kind, lambda: arguments.string("lambda") == nil ? nil : try arguments.number("lambda", default: 0, above: 0),
            includeCoupled: arguments.flag("coupled"))
        regularizer.options.step = try arguments.choice("reg-step", default: RegularizerStep.proximal)
        let out = arguments.string("out") ?? defaultOutput(for: source)
        let resume = arguments.flag("resume")
        if source.checkpointPath.map({ samePath($0, out) }) ?? false {
            throw UsageError(argument: "--out", problem: "\(out) is the source model; write the trained model to another file")
        }
        if FileManager.default.fileExists(atPath: out) && !resume && !arguments.flag("force") {
            throw UsageError(argument: "--out", problem: "\(out) exists; pass --force to replace it or --resume to continue its run")
        }

        let folder = arguments.string("data") ?? DataSource.defaultFolder()
        let data = try DataArguments.load(arguments)
        let architecture = try source.architecture(input: [data.train.channels, data.train.height, data.train.width],
                                                   classes: data.train.classes)
        try DataArguments.check(data.train, fits: architecture, dataFolder: folder)

        let model: Model
        var normalization = Normalization.fit(data.train)
        if resume {
            guard FileManager.default.fileExists(atPath: out) else {
                throw UsageError(argument: "--resume", problem: "\(out) does not exist yet; nothing to resume")
            }
            let (loaded, info) = try Checkpoint.load(path: out)
            guard loaded.architecture == architecture else {
                throw UsageError(argument: "--resume", problem: "\(out) holds another architecture ('\(info.architecture.name)')")
            }
            model = loaded
            normalization = info.normalization
        } else if let path = source.checkpointPath {
            let (loaded, info) = try Checkpoint.load(path: path)
            model = loaded
            normalization = info.normalization
        } else {
            model = try Model(architecture: architecture, seed: configuration.seed)
        }

        let trainer = try regularizer.trainer(for: model, configuration: configuration)
        let startEpoch = resume ? try TrainingState.restore(into: trainer, checkpoint: out) : 0
        guard startEpoch < configuration.epochs else {
            throw UsageError(argument: "--resume", problem: "\(out) already finished \(startEpoch) of \(configuration.epochs) epochs")
        }
        let info = CheckpointInfo(
            architecture: architecture, normalization: normalization, dataset: data.train.name,
            classNames: data.train.classNames, regularizer: kind.rawValue, lambda: regularizer.options.lambda,
            training: configuration.facts.merging([
                "train_examples": String(data.train.count), "coupled": String(regularizer.includeCoupled),
                "regularizer_step": regularizer.options.step.rawValue,
            ]) { $1 })

        if !arguments.flag("json") {
            let macs = try ModelGraph(architecture).cost.macs
            let penalty = kind == .l2 ? "" : ", \(kind.rawValue) λ=\(regularizer.options.lambda)"
            Console.error("training \(architecture.name) (\(macs.formatted()) MACs) on \(data.train.name): \(data.train.count) images, \(configuration.epochs) epochs\(penalty)" + (startEpoch > 0 ? ", resuming after epoch \(startEpoch)" : ""))
        }
        Interruption.install()
        let progress = ProgressLine()
        var epochs: [EpochSummary] = []
        let finished = try trainer.fit(
            train: data.train, normalization: normalization, augmentation: Augmentation.standard(for: data.train),
            startEpoch: startEpoch,
            progress: { p in
                progress.update(label: "epoch \(p.epoch + 1)/\(p.epochs)", share: p.share,
                                detail: String(format: "loss %.3f acc %.1f%% lr %.4f %.0f img/s", p.loss, p.accuracy * 100, p.learningRate, p.imagesPerSecond))
                return !Interruption.isRequested
            },
            epochFinished: { summary in
                epochs.append(summary)
                var epochInfo = info
                epochInfo.metrics = ["train_loss": summary.loss, "train_accuracy": summary.accuracy, "epochs_completed": Double(summary.epoch + 1)]
                try Checkpoint.save(model, info: epochInfo, to: out)
                try TrainingState.save(trainer, epochsCompleted: summary.epoch + 1, checkpoint: out)
                progress.finish(String(format: "epoch %d: loss %.4f, train accuracy %.2f%%, %.1fs; saved %@",
                                       summary.epoch + 1, summary.loss, summary.accuracy * 100, summary.seconds, out))
            })
        guard finished else {
            progress.finish()
            let done = epochs.last.map { $0.epoch + 1 } ?? startEpoch
            Console.error(done > 0 ? "interrupted: \(out) holds epoch \(done); continue with --resume" : "interrupted before the first epoch ended; nothing saved")
            throw Interrupted()
        }

        let test = Evaluator.evaluate(model, dataset: data.test, normalization: normalization)!
        var finalInfo = info
        finalInfo.metrics = ["top1": test.top1, "loss": test.loss, "train_loss": epochs.last?.loss ?? 0]
        try Checkpoint.save(model, info: finalInfo, to: out)
        try TrainingState.save(trainer, epochsCompleted: configuration.epochs, checkpoint: out)
        if arguments.flag("json") {
            Console.printJSON(Result(checkpoint: out, model: architecture.name, dataset: data.test.name, epochs: epochs, test: test))
        } else {
            print("test top-1 \(Format.percent(test.top1, decimals: 2)), loss \(String(format: "%.4f", test.loss)) on \(test.count) images; saved \(out)")
        }
    }

    static func defaultOutput(for source: ModelSource) -> String {
        switch source {
        case .builtIn(let builtIn): return builtIn.rawValue + ".safetensors"
        case .architectureFile(let path): return URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + ".safetensors"
        case .checkpoint(let path): return URL(fileURLWithPath: path).deletingPathExtension().path + "-trained.safetensors"
        }
    }

    static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath() == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath()
    }
}

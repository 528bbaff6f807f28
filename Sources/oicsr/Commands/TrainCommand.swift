import Canvas
import Engine
import Foundation
import Pruning

enum TrainCommand {
    enum Schedule: String, CaseIterable { case cosine, step, constant }

    struct Options {
        static let defaults = TrainingConfiguration()
        static let model = Option.text("model", placeholder: "NAME|FILE", default: BuiltInModel.convnetS.rawValue,
                                       help: "built-in (\(BuiltInModel.allCases.map(\.rawValue).joined(separator: ", "))), architecture .json, or checkpoint to continue from")
        static let epochs = Option.count("epochs", default: defaults.epochs, help: "epochs")
        static let batchSize = Option.count("batch-size", default: defaults.batchSize, maximum: 1 << 16, help: "batch size")
        static let learningRate = Option.number("lr", default: Double(defaults.learningRate), range: 0...1e6, lowerOpen: true, help: "base learning rate")
        static let schedule = Option<Schedule>.choice("schedule", default: .cosine,
                                                      help: "learning-rate schedule (step: x0.1 at 50% and 75% of the epochs)")
        static let momentum = Option.number("momentum", default: Double(defaults.momentum), range: 0...1, upperOpen: true, help: "SGD momentum")
        static let weightDecay = Option.number("weight-decay", default: Double(defaults.weightDecay), range: 0...1e6, help: "L2 weight decay")
        static let regularizer = Option<RegularizerKind>.choice("reg", default: .l2, help: "sparsity regularizer (l2: weight decay only)")
        static let lambda = Option.number("lambda", default: nil, range: 0...1e6, lowerOpen: true,
                                          help: "regularizer strength λ (default: the study's choice for convnet-s, docs/oicsr-study.md)")
        static let regularizerStep = Option<RegularizerStep>.choice("reg-step", default: RegularizerOptions(lambda: 0).step,
                                                                    help: "how the penalty enters: proximal (soft-threshold after each step) or subgradient")
        static let coupled = Flag(name: "coupled", help: "regularize the residual channels coupled across a stage too")
        static let seed = Option.count("seed", default: Int(defaults.seed), minimum: 0, help: "seed for initialisation, shuffling and augmentation")
        static let out = Option.text("out", placeholder: "FILE", defaultDescription: "MODEL.safetensors",
                                     help: "checkpoint to write, after every epoch")
        static let resume = Flag(name: "resume", help: "continue the interrupted run that writes --out")
        static let json = Flag(name: "json", help: "print the result as JSON")

        static let spec = CommandSpec(
            name: "train", summary: "Train a model on a data set and save it as a safetensors checkpoint.",
            usage: "train [--model NAME|FILE] [options]",
            options: [model.declaration] + DataOptions.declarations
                + [epochs, batchSize].map(\.declaration) + [learningRate.declaration, schedule.declaration, momentum.declaration,
                   weightDecay.declaration, regularizer.declaration, lambda.declaration, regularizerStep.declaration,
                   coupled.declaration, seed.declaration, out.declaration, resume.declaration, OutputOptions.force.declaration,
                   json.declaration])

        let source: ModelSource
        let configuration: TrainingConfiguration
        let regularizer: RegularizerChoice
        let data: DataOptions
        let output: OutputOptions
        let resume: Bool
        let json: Bool

        init(_ arguments: ParsedArguments) throws(UsageError) {
            source = try ModelSource(try arguments.value(Self.model), flag: "--model")
            var configuration = TrainingConfiguration()
            configuration.epochs = try arguments.value(Self.epochs)
            configuration.batchSize = try arguments.value(Self.batchSize)
            configuration.learningRate = Float(try arguments.value(Self.learningRate))
            configuration.momentum = Float(try arguments.value(Self.momentum))
            configuration.weightDecay = Float(try arguments.value(Self.weightDecay))
            configuration.seed = UInt64(try arguments.value(Self.seed))
            switch try arguments.value(Self.schedule) {
            case .cosine: configuration.schedule = .cosine
            case .constant: configuration.schedule = .constant
            case .step: configuration.schedule = .step(milestones: [configuration.epochs / 2, configuration.epochs * 3 / 4], factor: 0.1)
            }
            self.configuration = configuration
            let kind = try arguments.value(Self.regularizer)
            let lambda = try arguments.valueIfAny(Self.lambda)
            if kind == .l2 && lambda != nil {
                throw UsageError(argument: "--lambda", problem: "needs --reg gl, oicsr-gl or l1-bn (l2 is weight decay only: --weight-decay)")
            }
            var regularizer = RegularizerChoice(kind: kind, lambda: lambda, includeCoupled: arguments.flag(Self.coupled))
            regularizer.options.step = try arguments.value(Self.regularizerStep)
            self.regularizer = regularizer
            data = try DataOptions(arguments)
            resume = arguments.flag(Self.resume)
            json = arguments.flag(Self.json)
            let out = try arguments.valueIfAny(Self.out) ?? TrainCommand.defaultOutput(for: source)
            // --resume continues the file that --out names, so its existing is the point.
            output = try OutputOptions(path: out, option: Self.out.name, force: arguments.flag(OutputOptions.force) || resume,
                                       source: source.checkpointPath,
                                       existsHint: "pass --force to replace it or --resume to continue its run")
        }
    }

    static let spec = Options.spec

    struct Result: Encodable {
        var checkpoint: String
        var model: String
        var dataset: String
        /// The sparsity regularizer; each epoch reports its mean penalty beside the loss.
        var regularizer: Recipe.Regularization
        var epochs: [EpochSummary]
        var test: Evaluation
    }

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let out = options.output.path
        let configuration = options.configuration
        let data = try options.data.load()
        let architecture = try options.source.architecture(input: [data.train.channels, data.train.height, data.train.width],
                                                           classes: data.train.classes)
        try options.data.check(data.train, fits: architecture)

        let model: Model
        var normalization = Normalization.fit(data.train)
        var resumeToken: String?
        if options.resume {
            guard FileManager.default.fileExists(atPath: out) else {
                throw UsageError(argument: "--resume", problem: "\(out) does not exist yet; nothing to resume")
            }
            let (loaded, info) = try Checkpoint.load(path: out)
            guard loaded.architecture == architecture else {
                throw UsageError(argument: "--resume", problem: "\(out) holds another architecture ('\(info.architecture.name)')")
            }
            model = loaded
            normalization = info.normalization
            resumeToken = try info.recipe(file: out).training?.resumeToken
        } else if let path = options.source.checkpointPath {
            let (loaded, info) = try Checkpoint.load(path: path)
            model = loaded
            normalization = info.normalization
        } else {
            model = try Model(architecture: architecture, seed: configuration.seed)
        }

        let regularizer = options.regularizer
        let trainer = regularizer.trainer(for: model, configuration: configuration)
        let startEpoch = options.resume ? try TrainingState.restore(into: trainer, checkpoint: out, token: resumeToken) : 0
        guard startEpoch < configuration.epochs else {
            throw UsageError(argument: "--resume", problem: "\(out) already finished \(startEpoch) of \(configuration.epochs) epochs")
        }
        var info = CheckpointInfo(architecture: architecture, normalization: normalization, dataset: data.train.name,
                                  classNames: data.train.classNames)
        var recipe = Recipe(regularizer: Recipe.Regularization(regularizer),
                            training: Recipe.Training(configuration, trainExamples: data.train.count))

        if !options.json {
            let macs = model.graph.cost.macs
            let penalty = regularizer.kind == .l2 ? "" : ", \(regularizer.kind.rawValue) λ=\(regularizer.options.lambda) (\(regularizer.options.step.rawValue))"
            Console.error("training \(architecture.name) (\(macs.formatted()) MACs) on \(data.train.name): \(data.train.count) images, \(configuration.epochs) epoch\(configuration.epochs == 1 ? "" : "s")\(penalty)" + (startEpoch > 0 ? ", resuming after epoch \(startEpoch)" : ""))
        }
        Interruption.install()
        let progress = ProgressLine()
        var epochs: [EpochSummary] = []
        // Where training stopped being finite: (epoch, batch) of the first non-finite loss.
        var diverged: (epoch: Int, batch: Int)?
        let finished = try trainer.fit(
            train: data.train, normalization: normalization, augmentation: Augmentation.standard(for: data.train),
            startEpoch: startEpoch,
            progress: { p in
                guard diverged == nil else { return false }
                guard p.loss.isFinite else { diverged = (p.epoch + 1, p.batch); return false }
                // The bar shows the share of the whole run; the label says which epoch it is in.
                let penalty = regularizer.kind == .l2 ? "" : String(format: " + penalty %.3f", p.penalty)
                progress.update(label: "training (epoch \(p.epoch + 1)/\(p.epochs))", share: p.share,
                                detail: String(format: "loss %.3f%@ acc %.1f%% lr %.4f %.0f img/s", p.loss, penalty, p.accuracy * 100, p.learningRate, p.imagesPerSecond))
                return !Interruption.isRequested
            },
            epochFinished: { summary in
                // A step can leave the weights infinite after a finite loss; such weights are never saved.
                guard model.hasFiniteWeights else { diverged = (summary.epoch + 1, 0); return }
                epochs.append(summary)
                let token = TrainingState.newToken()
                recipe.training?.epochsCompleted = summary.epoch + 1
                recipe.training?.resumeToken = token
                info.record(recipe)
                info.metrics = ["train_loss": summary.loss, "train_accuracy": summary.accuracy, "train_penalty": summary.penalty]
                try Checkpoint.save(model, info: info, to: out)
                try TrainingState.save(trainer, epochsCompleted: summary.epoch + 1, token: token, checkpoint: out)
                let penalty = regularizer.kind == .l2 ? "" : String(format: " + %@ penalty %.4f", regularizer.kind.rawValue, summary.penalty)
                progress.finish(String(format: "epoch %d: loss %.4f%@, train accuracy %.2f%%, %.1fs; saved %@",
                                       summary.epoch + 1, summary.loss, penalty, summary.accuracy * 100, summary.seconds, out))
            })
        if let diverged {
            progress.finish()
            let done = epochs.last.map { $0.epoch + 1 } ?? startEpoch
            let kept = done > startEpoch ? "\(out) holds epoch \(done), the last with finite weights" : "nothing saved"
            throw RuntimeFailure(description: "training diverged in epoch \(diverged.epoch) (the loss or the weights are no longer finite numbers); \(kept); try a lower --lr")
        }
        guard finished else {
            progress.finish()
            let done = epochs.last.map { $0.epoch + 1 } ?? startEpoch
            Console.error(done > 0 ? "interrupted: \(out) holds epoch \(done); continue with --resume" : "interrupted before the first epoch ended; nothing saved")
            throw Interrupted()
        }

        let test = Evaluator.evaluate(model, dataset: data.test, normalization: normalization)!
        guard test.loss.isFinite || model.hasFiniteWeights else {
            throw RuntimeFailure(description: "training diverged (the test loss is \(test.loss)); \(out) holds the last epoch with finite weights; try a lower --lr")
        }
        info.metrics = ["top1": test.top1, "loss": test.loss]
        if let last = epochs.last { info.metrics["train_loss"] = last.loss; info.metrics["train_penalty"] = last.penalty }
        let token = TrainingState.newToken()
        recipe.training?.resumeToken = token
        info.record(recipe)
        try Checkpoint.save(model, info: info, to: out)
        try TrainingState.save(trainer, epochsCompleted: configuration.epochs, token: token, checkpoint: out)
        if options.json {
            Console.printJSON(Result(checkpoint: out, model: architecture.name, dataset: data.test.name,
                                     regularizer: Recipe.Regularization(regularizer), epochs: epochs, test: test))
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
}

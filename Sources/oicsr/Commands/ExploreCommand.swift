import Engine
import Canvas
import Explorer
import Foundation
import Terminal

// `oicsr` and `oicsr explore [MODEL]`: everything that can fail on bad input (arguments, data,
// checkpoint, terminal) is checked before the screen changes, so those errors are one line
// on stderr. Then the curses loop: draw when something changed, wait at most 50 ms for a
// key, take in the background job's news, repeat. Esc during the first run's training
// exits with status 1 ("training cancelled; nothing cached"); a quit with a selection
// prints the command that reproduces it.

enum ExploreCommand {
    struct Options {
        static let compare = Option.text("compare", placeholder: "FILE",
                                         help: "a second checkpoint of the same architecture, shown side by side (view 5)")
        static let evaluationLimit = Option.count("eval-limit", default: nil,
                                                  help: "evaluate on the first N test images only (e and the sensitivity analysis; default: all for e, 1000 for the analysis)")
        static let noMouse = Flag(name: "no-mouse", help: "leave the mouse to the terminal (its own text selection without Shift)")
        static let spec = CommandSpec(
            name: "explore", summary: "Open the explorer (the default when oicsr runs without a command).",
            usage: "explore [MODEL] [--compare FILE] [--data DIR] [--limit N] [--eval-limit N]",
            options: DataOptions.declarations + [compare.declaration, evaluationLimit.declaration, noMouse.declaration],
            positionals: 0...1,
            details: """
                MODEL is a checkpoint. Without one, the explorer opens convnet-s trained with OICSR-GL on the data,
                cached in $XDG_CACHE_HOME/oicsr (else ~/.cache/oicsr); the first run trains it, with a progress bar.
                Esc during that training stops it, caches nothing and exits with status 1.
                In the explorer, ? lists the keys; q quits. On quitting with a selection, the command line that
                reproduces it (oicsr prune ...) is printed.
                """)

        /// The checkpoint to open; nil for the default model.
        let checkpoint: String?
        let comparison: String?
        let evaluationLimit: Int?
        let mouse: Bool
        let data: DataOptions

        init(_ arguments: ParsedArguments) throws(UsageError) {
            data = try DataOptions(arguments)
            checkpoint = arguments.positionals.first.flatMap { $0 == DefaultModel.architecture.rawValue ? nil : $0 }
            if let checkpoint {
                if BuiltInModel(rawValue: checkpoint) != nil {
                    throw UsageError(argument: checkpoint, problem: "the explorer needs trained weights; train first, e.g. 'oicsr train --model \(checkpoint) --reg oicsr-gl', then 'oicsr explore \(checkpoint).safetensors'")
                }
                guard FileManager.default.fileExists(atPath: checkpoint) else {
                    throw UsageError(argument: checkpoint, problem: "no such checkpoint file")
                }
            }
            comparison = try arguments.valueIfAny(Self.compare)
            if let comparison, !FileManager.default.fileExists(atPath: comparison) {
                throw UsageError(argument: "--compare", problem: "no such checkpoint file '\(comparison)'")
            }
            evaluationLimit = try arguments.valueIfAny(Self.evaluationLimit)
            mouse = !arguments.flag(Self.noMouse)
        }

        /// The options that chose the data, for the commands the explorer shows.
        var dataArguments: [String] {
            var words: [String] = []
            if data.isExplicit { words += ["--data", data.folder] }
            if let limit = data.limit { words += ["--limit", String(limit)] }
            return words
        }
    }

    static let spec = Options.spec

    /// How long the loop waits for a key before looking at the background job again.
    static let pollMilliseconds = 50

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let environment = ProcessInfo.processInfo.environment
        let data = try options.data.load()
        let placeholder = Size(width: 80, height: 24)
        var comparison: (model: Model, info: CheckpointInfo, path: String)?
        if let path = options.comparison {
            let (model, info) = try Checkpoint.load(path: path)
            try options.data.check(data.train, fits: model.architecture)
            comparison = (model, info, path)
        }
        func open(_ model: Model, _ info: CheckpointInfo, _ path: String) throws -> ExplorerSession {
            do {
                return try ExplorerSession(model: model, info: info, path: path, data: data, size: placeholder,
                                           evaluationLimit: options.evaluationLimit, dataArguments: options.dataArguments,
                                           comparison: comparison)
            } catch let error as ComparisonError {
                throw UsageError(argument: "--compare", problem: error.description)
            }
        }
        let session: ExplorerSession
        if let argument = options.checkpoint {
            let (model, info) = try Checkpoint.load(path: argument)
            try options.data.check(data.train, fits: model.architecture)
            session = try open(model, info, argument)
        } else {
            let path = DefaultModel.cachePath(environment: environment, dataset: data.train.name,
                                              limit: options.data.limit)
            if FileManager.default.fileExists(atPath: path) {
                let (model, info): (Model, CheckpointInfo)
                do {
                    (model, info) = try Checkpoint.load(path: path)
                } catch let error as CheckpointError {
                    throw CheckpointError(file: error.file, problem: error.problem + "; delete the cached file to train it again")
                }
                try options.data.check(data.train, fits: model.architecture)
                session = try open(model, info, path)
            } else {
                guard comparison == nil else {
                    throw UsageError(argument: "--compare", problem: "needs a model to compare with: name a checkpoint, or run 'oicsr' once to train the default")
                }
                session = ExplorerSession(trainingDefaultInto: path, data: data, size: placeholder,
                                          evaluationLimit: options.evaluationLimit, dataArguments: options.dataArguments)
            }
        }
        defer { session.shutdown() }

        // Raw mode: Ctrl-C arrives as a key and quits like q (asking first if work is unsaved).
        let screen = CursesScreen(interruptAsKey: true, mouse: options.mouse)
        do {
            try screen.start()
        } catch {
            throw UsageError(argument: "explore", problem: error.description)
        }
        defer { screen.stop() }
        let theme = Theme.automatic(environment: environment, terminalHasColors: screen.supportsColor)
        var needsDrawing = true
        while !session.isFinished {
            if needsDrawing {
                screen.draw(session.frame(size: screen.size), theme: theme)
                needsDrawing = false
            }
            if let key = screen.readKey(timeoutMilliseconds: pollMilliseconds) {
                session.handle(key)
                for text in session.takeCopies() { screen.copyToClipboard(text) }
                needsDrawing = true
            }
            if session.poll() { needsDrawing = true }
        }
        screen.stop()
        if session.state.ending == .trainingCancelled {
            throw RuntimeFailure(description: "training cancelled; nothing cached")
        }
        // The selection as a command, in the scrollback where it can be copied.
        if let command = session.state.reproducingCommand() {
            print("the selection, as a command:\n  " + command)
        }
    }
}

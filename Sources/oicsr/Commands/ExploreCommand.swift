import Engine
import Canvas
import Explorer
import Foundation
import Terminal

// `oicsr` and `oicsr explore [MODEL]`: everything that can fail on bad input (arguments, data,
// checkpoint, terminal) is checked before the screen changes, so those errors are one line
// on stderr. Then the curses loop: draw when something changed, wait at most 50 ms for a
// key, take in the background job's news, repeat.

enum ExploreCommand {
    struct Options {
        static let spec = CommandSpec(
            name: "explore", summary: "Open the explorer (the default when oicsr runs without a command).",
            usage: "explore [MODEL] [--data DIR] [--limit N]",
            options: DataOptions.declarations,
            positionals: 0...1,
            details: """
                MODEL is a checkpoint. Without one, the explorer opens convnet-s trained with OICSR-GL on the data,
                cached in $XDG_CACHE_HOME/oicsr (else ~/.cache/oicsr); the first run trains it, with a progress bar.
                In the explorer, ? lists the keys; q quits.
                """)

        /// The checkpoint to open; nil for the default model.
        let checkpoint: String?
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
        let session: ExplorerSession
        if let argument = options.checkpoint {
            let (model, info) = try Checkpoint.load(path: argument)
            try options.data.check(data.train, fits: model.architecture)
            session = try ExplorerSession(model: model, info: info, path: argument, data: data, size: placeholder)
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
                session = try ExplorerSession(model: model, info: info, path: path, data: data, size: placeholder)
            } else {
                session = ExplorerSession(trainingDefaultInto: path, data: data, size: placeholder)
            }
        }
        defer { session.shutdown() }

        // Raw mode: Ctrl-C arrives as a key and quits like q (asking first if work is unsaved).
        let screen = CursesScreen(interruptAsKey: true)
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
                needsDrawing = true
            }
            if session.poll() { needsDrawing = true }
        }
    }
}

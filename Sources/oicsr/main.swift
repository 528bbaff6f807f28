import Engine
import Foundation

// oicsr: every action of the explorer as a command, and the explorer itself.

let commands: [(CommandSpec, (ParsedArguments) throws -> Void)] = [
    (ExploreCommand.spec, ExploreCommand.run),
    (TrainCommand.spec, TrainCommand.run),
    (EvalCommand.spec, EvalCommand.run),
    (PruneCommand.spec, PruneCommand.run),
    (GroupsCommand.spec, GroupsCommand.run),
    (EnergiesCommand.spec, EnergiesCommand.run),
    (StudyCommand.spec, StudyCommand.run),
    (InfoCommand.spec, InfoCommand.run),
    (PredictCommand.spec, PredictCommand.run),
    (BenchCommand.spec, BenchCommand.run),
]

let overview = """
    usage: oicsr COMMAND [options]

    Channel pruning of convolutional networks with out-in-channel sparsity (OICSR).

    commands:
    \(commands.map { "  " + $0.0.name.padding(toLength: 10, withPad: " ", startingAt: 0) + $0.0.summary }.joined(separator: "\n"))

    'oicsr COMMAND --help' describes a command.
    """

@MainActor func main() -> Int32 {
    // Closed standard streams are reopened on /dev/null before any file is opened, so no
    // file of ours ever takes descriptor 0, 1 or 2.
    Console.prepareStandardStreams()
    // Without a command (or with only options), oicsr opens the explorer.
    var arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.first.map({ $0.hasPrefix("--") && $0 != "--help" }) ?? true { arguments.insert("explore", at: 0) }
    let name = arguments[0]
    if name == "--help" || name == "-h" || name == "help" {
        print(overview)
        return ExitStatus.success
    }
    arguments.removeFirst()
    guard let (spec, run) = commands.first(where: { $0.0.name == name }) else {
        return Failure.report(UsageError(argument: name, problem: "unknown command; commands: \(commands.map(\.0.name).joined(separator: ", "))"))
    }
    do {
        if let text = ProcessInfo.processInfo.environment[Parallel.environmentVariable], !text.isEmpty,
           Parallel.configuredWorkers(environment: ProcessInfo.processInfo.environment) == nil {
            throw UsageError(argument: Parallel.environmentVariable, problem: "'\(text)' is not a worker count from 1 to \(Parallel.maximumWorkers)")
        }
        let parsed = try ParsedArguments(arguments, for: spec)
        if parsed.wantsHelp {
            print(spec.help)
            return ExitStatus.success
        }
        try run(parsed)
        return ExitStatus.success
    } catch {
        return Failure.report(error)
    }
}

exit(main())

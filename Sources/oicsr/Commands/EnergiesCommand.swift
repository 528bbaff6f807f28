import Engine
import Foundation
import Pruning

enum EnergiesCommand {
    struct Options {
        static let json = Flag(name: "json", help: "print as JSON")
        static let csv = Flag(name: "csv", help: "print as CSV (one row per channel, every normalisation)")
        static let spec = CommandSpec(
            name: "energies", summary: "Per-channel energies of a checkpoint, raw and normalised, in the global ranking.",
            usage: "energies CHECKPOINT [--normalization KIND] [--json | --csv]",
            options: SelectionOptions.declarations + [json.declaration, csv.declaration],
            positionals: 1...1,
            details: "The out-in energy of channel i is the squared norm of everything that lives and dies with it\n(docs/design.md §5); rank is the channel's place in the global ascending order the greedy selection walks.")

        let checkpoint: String
        let selection: SelectionOptions
        let json: Bool
        let csv: Bool

        init(_ arguments: ParsedArguments) throws(UsageError) {
            checkpoint = arguments.positionals[0]
            selection = try SelectionOptions(arguments)
            json = arguments.flag(Self.json)
            csv = arguments.flag(Self.csv)
            guard !(json && csv) else { throw UsageError(argument: "--csv", problem: "choose one of --json and --csv") }
        }
    }

    static let spec = Options.spec

    struct ChannelRow: Encodable {
        var group: String
        var channel: Int
        var energy: Double
        var normalized: [String: Double]
        var rank: Int
    }

    struct Result: Encodable {
        var checkpoint: String
        var criterion: String
        var normalization: String
        var channels: [ChannelRow]
    }

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let checkpoint = try TrainedCheckpoint.load(options.checkpoint)
        let (path, model) = (checkpoint.path, checkpoint.model)
        let setup = options.selection.policy(for: checkpoint.recipe)
        let groups = ChannelGroups(graph: model.graph, includeCoupled: setup.includeCoupled)
        guard !groups.groups.isEmpty else { throw UsageError(argument: path, problem: "the model has no prunable channel") }
        let energies = Energies(model: model, groups: groups, criterion: setup.criterion)
        let normalized = Dictionary(uniqueKeysWithValues: EnergyNormalization.allCases.map { ($0, energies.normalized($0)) })
        var ranking: [(Double, Int, Int)] = []
        for (g, values) in normalized[setup.normalization]!.enumerated() {
            for (i, value) in values.enumerated() { ranking.append((value, g, i)) }
        }
        ranking.sort { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
        var rank: [[Int]] = groups.groups.map { Array(repeating: 0, count: $0.width) }
        for (position, entry) in ranking.enumerated() { rank[entry.1][entry.2] = position + 1 }
        let rows = groups.groups.flatMap { group in
            (0..<group.width).map { i in
                ChannelRow(group: group.name, channel: i, energy: energies.raw[group.id][i],
                           normalized: Dictionary(uniqueKeysWithValues: normalized.map { ($0.key.rawValue, $0.value[group.id][i]) }),
                           rank: rank[group.id][i])
            }
        }
        if options.json {
            Console.printJSON(Result(checkpoint: path, criterion: setup.criterion.rawValue,
                                     normalization: setup.normalization.rawValue, channels: rows))
        } else if options.csv {
            // One column per normalisation; "raw" is the energy itself.
            print((["group", "channel"] + EnergyNormalization.allCases.map(\.rawValue) + ["rank"]).joined(separator: ","))
            for row in rows {
                let values = EnergyNormalization.allCases.map { String(row.normalized[$0.rawValue]!) }
                print(([row.group, String(row.channel)] + values + [String(row.rank)]).joined(separator: ","))
            }
        } else {
            print("\(path): \(setup.criterion.rawValue) energies, ranked by \(setup.normalization.rawValue) (\(setup.normalization.summary))")
            let width = max(5, groups.groups.map(\.name.count).max() ?? 0)
            print("group".padding(toLength: width, withPad: " ", startingAt: 0) + "  channel        energy    normalised   rank")
            for row in rows {
                print(row.group.padding(toLength: width, withPad: " ", startingAt: 0)
                      + String(format: "  %7d  %12.5g  %12.5g  %5d", row.channel, row.energy, row.normalized[setup.normalization.rawValue]!, row.rank))
            }
        }
    }
}

import Engine
import Foundation
import Pruning

enum EnergiesCommand {
    static let spec = CommandSpec(
        name: "energies", summary: "Per-channel energies of a checkpoint, raw and normalised, in the global ranking.",
        usage: "energies CHECKPOINT [--normalization KIND] [--json | --csv]",
        options: PruningArguments.options + [
            OptionSpec(name: "json", value: nil, help: "print as JSON"),
            OptionSpec(name: "csv", value: nil, help: "print as CSV (one row per channel, every normalisation)"),
        ],
        positionals: 1...1,
        details: "The out-in energy of channel i is the squared norm of everything that lives and dies with it\n(docs/design.md §5); rank is the channel's place in the global ascending order the greedy selection walks.")

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
        guard !(arguments.flag("json") && arguments.flag("csv")) else {
            throw UsageError(argument: "--csv", problem: "choose one of --json and --csv")
        }
        let (path, model, info) = try PruningArguments.loadCheckpoint(arguments.positionals[0])
        let setup = try PruningArguments(arguments, info: info)
        let groups = try setup.groups(of: model, path: path)
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
        if arguments.flag("json") {
            Console.printJSON(Result(checkpoint: path, criterion: setup.criterion.rawValue,
                                     normalization: setup.normalization.rawValue, channels: rows))
        } else if arguments.flag("csv") {
            print((["group", "channel", "energy"] + EnergyNormalization.allCases.map(\.rawValue) + ["rank"]).joined(separator: ","))
            for row in rows {
                let values = EnergyNormalization.allCases.map { String(row.normalized[$0.rawValue]!) }
                print(([row.group, String(row.channel), String(row.energy)] + values + [String(row.rank)]).joined(separator: ","))
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

import Engine
import Foundation
import Pruning

enum GroupsCommand {
    struct Options {
        static let json = Flag(name: "json", help: "print the groups as JSON")
        static let spec = CommandSpec(
            name: "groups", summary: "List the prunable channel groups of a model: what is coupled to what.",
            usage: "groups [MODEL] [--coupled] [--json]",
            options: [SelectionOptions.coupled.declaration, InfoCommand.Options.input.declaration,
                      InfoCommand.Options.classes.declaration, json.declaration],
            positionals: 0...1,
            details: "MODEL is a built-in name, an architecture .json or a checkpoint (default convnet-s).\nChannel i of a group is one out-in-channel: filter i of each producer, entry i of each BatchNorm\nand depthwise filter, and input slice i of each consumer (docs/architecture-json.md §2).")

        let source: ModelSource
        let includeCoupled: Bool
        let input: [Int]
        let classes: Int
        let json: Bool

        init(_ arguments: ParsedArguments) throws(UsageError) {
            source = try ModelSource(arguments.positionals.first ?? BuiltInModel.convnetS.rawValue, flag: "MODEL")
            includeCoupled = arguments.flag(SelectionOptions.coupled)
            input = try arguments.value(InfoCommand.Options.input)
            classes = try arguments.value(InfoCommand.Options.classes)
            json = arguments.flag(Self.json)
        }
    }

    static let spec = Options.spec

    struct GroupRow: Encodable {
        var id: Int
        var name: String
        var channels: Int
        var producers: [String]
        var batchNorms: [ChannelSlice]
        var depthwise: [ChannelSlice]
        var consumers: [ChannelSlice]
        var coupled: Bool
        var macsShare: Double
    }

    struct Result: Encodable {
        var model: String
        var groups: [GroupRow]
        var fixed: [[String: String]]
    }

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let architecture = try options.source.architecture(input: options.input, classes: options.classes)
        let groups = ChannelGroups(graph: try ModelGraph(architecture), includeCoupled: options.includeCoupled)
        let shares = try macsShares(groups)
        let rows = groups.groups.map { g in
            GroupRow(id: g.id, name: g.name, channels: g.width, producers: g.producers, batchNorms: g.batchNorms,
                     depthwise: g.depthwise, consumers: g.consumers, coupled: g.isCoupled, macsShare: shares[g.id])
        }
        if options.json {
            Console.printJSON(Result(model: architecture.name, groups: rows,
                                     fixed: groups.fixed.map { ["name": $0.name, "reason": $0.reason] }))
            return
        }
        print("\(architecture.name): \(rows.count) prunable groups, \(groups.totalChannels) channels")
        for row in rows {
            print(String(format: "%3d  %@  %d channels, %.1f%% of MACs%@", row.id, row.name, row.channels, row.macsShare * 100,
                         row.coupled ? "  (coupled)" : ""))
            let perChannel = (row.depthwise + row.batchNorms).map(describe)
            print("       out: " + row.producers.joined(separator: ", ") + (perChannel.isEmpty ? "" : " + " + perChannel.joined(separator: ", ")))
            print("       in:  " + row.consumers.map(describe).joined(separator: ", "))
        }
        if !groups.fixed.isEmpty {
            print("not pruned:")
            for fixed in groups.fixed { print("     \(fixed.name): \(fixed.reason)") }
        }
    }

    /// "conv3", or "cat.bn (from channel 64)", or "fc (16 columns each)".
    static func describe(_ slice: ChannelSlice) -> String {
        var text = slice.layer
        if slice.offset > 0 { text += " (from channel \(slice.offset))" }
        if slice.featuresPerChannel > 1 { text += " (\(slice.featuresPerChannel) columns each)" }
        return text
    }

    /// Share of the model's MACs in the layers each group touches (as producer or consumer).
    static func macsShares(_ groups: ChannelGroups) throws -> [Double] {
        let cost = groups.graph.cost
        let byName = Dictionary(uniqueKeysWithValues: cost.layers.map { ($0.name, $0.macs) })
        return groups.groups.map { g in
            let layers = Set(g.producers + g.consumers.map(\.layer))
            return Double(layers.reduce(0) { $0 + (byName[$1] ?? 0) }) / Double(cost.macs)
        }
    }
}

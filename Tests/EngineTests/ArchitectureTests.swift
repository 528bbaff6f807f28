import Foundation
import Testing
@testable import Engine

@Suite("Architectures and the cost model")
struct ArchitectureTests {
    @Test func convnetSCost() throws {
        let cost = try ModelGraph(BuiltInModel.convnetS.architecture()).cost
        #expect(cost.macs == 21_903_104)
        #expect(cost.parameters == 140_458)
    }

    @Test func resnet20Cost() throws {
        let cost = try ModelGraph(BuiltInModel.resnet20.architecture(input: [1, 28, 28], classes: 10)).cost
        #expect(cost.macs == 31_021_952)
        #expect(cost.parameters == 272_186)
    }

    @Test func costMatchesBuiltModel() throws {
        // Parameter counts from the cost model equal the tensors the model actually holds.
        for builtIn in BuiltInModel.allCases {
            let arch = builtIn.architecture(input: [3, 32, 32], classes: 100)
            let model = try Model(architecture: arch)
            #expect(try ModelGraph(arch).cost.parameters == model.parameters.reduce(0) { $0 + $1.value.count }, "\(builtIn)")
        }
    }

    @Test func jsonRoundTrip() throws {
        let arch = BuiltInModel.resnet56.architecture()
        let parsed = try Architecture.parse(Data(arch.jsonString().utf8), source: "resnet56.json")
        #expect(parsed == arch)
    }

    static let valid = #"{"name": "t", "input": [1, 8, 8], "classes": 3, "layers": [LAYERS]}"#
    static func parse(_ layers: String) -> ArchitectureError? {
        do { _ = try Architecture.parse(Data(valid.replacingOccurrences(of: "LAYERS", with: layers).utf8), source: "arch.json"); return nil }
        catch { return error }
    }

    @Test func acceptsAValidDescription() {
        #expect(Self.parse(#"{"name": "c", "kind": "conv2d", "in": 1, "out": 4, "kernel": 3}, {"name": "g", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 3}"#) == nil)
    }

    @Test("rejections name the layer and the field", arguments: [
        (#"{"name": "c", "kind": "conv3d", "out": 4, "kernel": 3}"#, "c", "kind", "unknown kind 'conv3d'"),
        (#"{"name": "c", "kind": "conv2d", "kernel": 3}"#, "c", "out", "missing"),
        (#"{"name": "c", "kind": "conv2d", "out": 4}"#, "c", "kernel", "missing"),
        (#"{"name": "c", "kind": "conv2d", "in": 2, "out": 4, "kernel": 3}"#, "c", "in", "expected 1"),
        (#"{"kind": "relu"}"#, "#0", "name", "missing"),
        (#"{"name": "c", "kind": "conv2d", "out": 4, "kernel": 3, "stride": 0}"#, "c", "stride", "at least 1"),
        (#"{"name": "c", "kind": "conv2d", "out": "4", "kernel": 3}"#, "c", "out", "not an integer"),
        (#"{"name": "c", "kind": "conv2d", "out": 4, "kernel": 3, "colour": 1}"#, "c", "colour", "unknown field"),
        (#"{"name": "c", "kind": "conv2d", "out": 4, "kernel": 3}, {"name": "a", "kind": "add", "inputs": ["c", "input"]}"#, "a", "inputs", "shapes differ"),
        (#"{"name": "r", "kind": "relu", "inputs": ["nowhere"]}"#, "r", "inputs", "'nowhere' is not an earlier layer"),
        (#"{"name": "fc", "kind": "linear", "out": 3}"#, "fc", "inputs", "needs a flat vector"),
        (#"{"name": "g", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 5}"#, "fc", "out", "3 class scores"),
        (#"{"name": "g", "kind": "globalavgpool"}, {"name": "g", "kind": "linear", "out": 3}"#, "g", "name", "used twice"),
    ])
    func rejects(layers: String, layer: String, field: String, problem: String) throws {
        let error = try #require(Self.parse(layers))
        #expect(error.layer == layer)
        #expect(error.field == field)
        #expect(error.problem.contains(problem), "\(error)")
        #expect(error.description.hasPrefix("arch.json: layer '\(layer)', field '\(field)'"))
    }

    @Test func rejectsBrokenDocuments() {
        for (text, field) in [("[1, 2]", nil), (#"{"input": [1, 8, 8], "classes": 3, "layers": []}"#, "name"),
                              (#"{"name": "t", "input": [1, 8], "classes": 3, "layers": []}"#, "input"),
                              (#"{"name": "t", "input": [1, 8, 8], "classes": 3, "layers": []}"#, "layers")] as [(String, String?)] {
            do {
                _ = try Architecture.parse(Data(text.utf8), source: "arch.json")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.field == field, "\(text)")
            }
        }
    }
}

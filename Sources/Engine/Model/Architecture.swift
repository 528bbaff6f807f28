import Foundation

// A model's architecture: named layers wired into a graph, as JSON (every kind and field in
// docs/architecture-json.md). Layer and parameter names follow PyTorch's state_dict naming
// (docs/design.md §3), so "conv1" owns "conv1.weight".
//
//   {"name": "tiny", "input": [1, 28, 28], "classes": 10, "layers": [
//     {"name": "conv1", "kind": "conv2d", "out": 8, "kernel": 3, "padding": 1},
//     {"name": "bn1", "kind": "batchnorm"}, {"name": "relu1", "kind": "relu"},
//     {"name": "gap", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 10}]}
//
// A layer reads the previous layer unless it names its `inputs` ("input" is the image).

public struct Architecture: Codable, Equatable, Sendable {
    public var name: String
    /// Input as (channels, height, width).
    public var input: [Int]
    public var classes: Int
    public var layers: [LayerSpec]

    public init(name: String, input: [Int], classes: Int, layers: [LayerSpec]) {
        self.name = name; self.input = input; self.classes = classes; self.layers = layers
    }

    public var inputShape: FeatureShape { .map(input[1], input[2], input[0]) }

    /// Name used for the image in `inputs`.
    public static let imageName = "input"

    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Every field is an integer, a string, a boolean or a finite number (the parser
        // refuses others), so encoding cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}

extension Architecture {
    /// Parses and validates JSON. Every problem names the layer and field concerned; the
    /// JSON is checked field by field rather than through Decodable so the message can.
    public static func parse(_ data: Data, source: String) throws(ArchitectureError) -> Architecture {
        try parseResolving(data, source: source).architecture
    }

    /// Parses, validates and resolves JSON in one go.
    public static func parseResolving(_ data: Data, source: String) throws(ArchitectureError) -> ModelGraph {
        func fail(_ layer: String?, _ field: String?, _ problem: String) -> ArchitectureError {
            ArchitectureError(source: source, layer: layer, field: field, problem: problem)
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let root = object as? [String: Any] else {
            throw fail(nil, nil, "not a JSON object")
        }
        guard let name = root["name"] as? String else { throw fail(nil, "name", "missing or not a string") }
        guard let input = root["input"] as? [Int], input.count == 3, !root["input"].map(isBooleanList)! else {
            throw fail(nil, "input", "expected [channels, height, width] of positive integers")
        }
        guard let classes = root["classes"] as? Int, !LayerField.isBoolean(root["classes"]!), classes > 1,
              classes <= ArchitectureLimits.dimension else {
            throw fail(nil, "classes", "missing or not an integer from 2 to \(ArchitectureLimits.dimension)")
        }
        guard let rawLayers = root["layers"] as? [Any], !rawLayers.isEmpty else {
            throw fail(nil, "layers", "missing or empty")
        }
        let common: Set<String> = ["name", "kind", "inputs", "in"]
        var layers: [LayerSpec] = []
        for (index, raw) in rawLayers.enumerated() {
            guard let fields = raw as? [String: Any] else { throw fail("#\(index)", nil, "not a JSON object") }
            guard let layerName = fields["name"] as? String, !layerName.isEmpty else {
                throw fail("#\(index)", "name", "missing or not a string")
            }
            guard let kindName = fields["kind"] as? String else { throw fail(layerName, "kind", "missing") }
            guard let kind = LayerKind(rawValue: kindName) else {
                throw fail(layerName, "kind", "unknown kind '\(kindName)'; known: \(LayerKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var spec = LayerSpec(name: layerName, kind: kind)
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) where !common.contains(key) {
                guard let field = LayerField(rawValue: key) else { throw fail(layerName, key, "unknown field") }
                try field.read(value, into: &spec) { fail(layerName, key, $0) }
            }
            if let value = fields["in"] {
                guard let number = value as? Int, !LayerField.isBoolean(value) else { throw fail(layerName, "in", "not an integer") }
                spec.inChannels = number
            }
            if let value = fields["inputs"] {
                guard let names = value as? [String] else { throw fail(layerName, "inputs", "not a list of layer names") }
                spec.inputs = names
            }
            layers.append(spec)
        }
        return try ModelGraph(Architecture(name: name, input: input, classes: classes, layers: layers), source: source)
    }

    private static func isBooleanList(_ value: Any) -> Bool {
        (value as? [Any])?.contains(where: LayerField.isBoolean) ?? false
    }
}

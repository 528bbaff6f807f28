import Foundation

// A model's architecture: named layers wired into a graph, as JSON. Layer and parameter
// names follow PyTorch's state_dict naming (docs/design.md §3), so "conv1" owns "conv1.weight".
//
//   {"name": "tiny", "input": [1, 28, 28], "classes": 10, "layers": [
//     {"name": "conv1", "kind": "conv2d", "out": 8, "kernel": 3, "padding": 1},
//     {"name": "bn1", "kind": "batchnorm"}, {"name": "relu1", "kind": "relu"},
//     {"name": "gap", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 10}]}
//
// A layer reads the previous layer unless it names its `inputs` ("input" is the image);
// `add` takes two. `in` may be given for checking; it must match what arrives.
// Defaults: stride 1, padding 0; conv2d without bias (BatchNorm follows), linear with bias;
// pooling stride = kernel.

public enum LayerKind: String, Codable, CaseIterable, Sendable {
    case conv2d, batchnorm, relu, maxpool, avgpool, globalavgpool, flatten, linear, add
}

public struct LayerSpec: Codable, Equatable, Sendable {
    public var name: String
    public var kind: LayerKind
    /// Producers of this layer's input; nil means the previous layer (or the image).
    public var inputs: [String]?
    public var inChannels: Int?
    public var outChannels: Int?
    public var kernel: Int?
    public var stride: Int?
    public var padding: Int?
    public var bias: Bool?

    enum CodingKeys: String, CodingKey {
        case name, kind, inputs, inChannels = "in", outChannels = "out", kernel, stride, padding, bias
    }

    public init(name: String, kind: LayerKind, inputs: [String]? = nil, inChannels: Int? = nil, outChannels: Int? = nil,
                kernel: Int? = nil, stride: Int? = nil, padding: Int? = nil, bias: Bool? = nil) {
        self.name = name; self.kind = kind; self.inputs = inputs; self.inChannels = inChannels
        self.outChannels = outChannels; self.kernel = kernel; self.stride = stride; self.padding = padding; self.bias = bias
    }

    public var hasBias: Bool { bias ?? (kind == .linear) }
}

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
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}

/// A rejected architecture: which layer, which field, what is wrong.
public struct ArchitectureError: Error, CustomStringConvertible, Equatable {
    public var source: String
    public var layer: String?
    public var field: String?
    public var problem: String

    public var description: String {
        var where_ = source
        if let layer { where_ += ": layer '\(layer)'" }
        if let field { where_ += ", field '\(field)'" }
        return "\(where_): \(problem)"
    }
}

extension Architecture {
    /// Parses and validates JSON. Every problem names the layer and field concerned;
    /// the JSON is checked field by field rather than through Decodable so the message can.
    public static func parse(_ data: Data, source: String) throws(ArchitectureError) -> Architecture {
        func fail(_ layer: String?, _ field: String?, _ problem: String) -> ArchitectureError {
            ArchitectureError(source: source, layer: layer, field: field, problem: problem)
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let root = object as? [String: Any] else {
            throw fail(nil, nil, "not a JSON object")
        }
        guard let name = root["name"] as? String else { throw fail(nil, "name", "missing or not a string") }
        guard let input = root["input"] as? [Int], input.count == 3, input.allSatisfy({ $0 > 0 }) else {
            throw fail(nil, "input", "expected [channels, height, width] of positive integers")
        }
        guard let classes = root["classes"] as? Int, classes > 1 else {
            throw fail(nil, "classes", "missing or not an integer above 1")
        }
        guard let rawLayers = root["layers"] as? [Any], !rawLayers.isEmpty else {
            throw fail(nil, "layers", "missing or empty")
        }
        let known: Set<String> = ["name", "kind", "inputs", "in", "out", "kernel", "stride", "padding", "bias"]
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
            if let unknown = fields.keys.first(where: { !known.contains($0) }) {
                throw fail(layerName, unknown, "unknown field")
            }
            func integer(_ key: String) throws(ArchitectureError) -> Int? {
                guard let value = fields[key] else { return nil }
                guard let number = value as? Int, !isBoolean(value) else { throw fail(layerName, key, "not an integer") }
                return number
            }
            var spec = LayerSpec(name: layerName, kind: kind)
            spec.inChannels = try integer("in")
            spec.outChannels = try integer("out")
            spec.kernel = try integer("kernel")
            spec.stride = try integer("stride")
            spec.padding = try integer("padding")
            if let value = fields["bias"] {
                guard isBoolean(value), let flag = value as? Bool else { throw fail(layerName, "bias", "not true or false") }
                spec.bias = flag
            }
            if let value = fields["inputs"] {
                guard let names = value as? [String] else { throw fail(layerName, "inputs", "not a list of layer names") }
                spec.inputs = names
            }
            layers.append(spec)
        }
        let architecture = Architecture(name: name, input: input, classes: classes, layers: layers)
        _ = try architecture.inferShapes(source: source)
        return architecture
    }

    /// JSONSerialization hands back booleans as NSNumbers that also cast to Int.
    private static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// Checks the wiring and every layer's fields, returning each layer's output shape.
    public func inferShapes(source: String = "architecture") throws(ArchitectureError) -> [FeatureShape] {
        func fail(_ layer: String?, _ field: String?, _ problem: String) -> ArchitectureError {
            ArchitectureError(source: source, layer: layer, field: field, problem: problem)
        }
        guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
            throw fail(nil, "input", "expected [channels, height, width] of positive integers")
        }
        var shapes: [FeatureShape] = []
        var index: [String: Int] = [:]
        for (i, layer) in layers.enumerated() {
            guard index[layer.name] == nil, layer.name != Self.imageName else {
                throw fail(layer.name, "name", "used twice")
            }
            let producers = layer.inputs ?? [i == 0 ? Self.imageName : layers[i - 1].name]
            var inputs: [FeatureShape] = []
            for producer in producers {
                if producer == Self.imageName { inputs.append(inputShape); continue }
                guard let j = index[producer] else {
                    throw fail(layer.name, "inputs", "'\(producer)' is not an earlier layer")
                }
                inputs.append(shapes[j])
            }
            let arity = layer.kind == .add ? 2 : 1
            guard inputs.count == arity else {
                throw fail(layer.name, "inputs", "\(layer.kind.rawValue) takes \(arity) input(s), found \(inputs.count)")
            }
            let x = inputs[0]
            if let declared = layer.inChannels, declared != x.channels {
                throw fail(layer.name, "in", "expected \(x.channels) (what '\(producers[0])' produces), found \(declared)")
            }
            func positive(_ value: Int?, _ field: String, default fallback: Int? = nil, minimum: Int = 1) throws(ArchitectureError) -> Int {
                guard let v = value ?? fallback else { throw fail(layer.name, field, "missing") }
                guard v >= minimum else { throw fail(layer.name, field, "must be at least \(minimum), found \(v)") }
                return v
            }
            func needsMap() throws(ArchitectureError) {
                if x.isFlat { throw fail(layer.name, "inputs", "\(layer.kind.rawValue) needs a spatial map, but '\(producers[0])' gives a flat vector") }
            }
            let out: FeatureShape
            switch layer.kind {
            case .conv2d:
                try needsMap()
                let o = try positive(layer.outChannels, "out")
                let k = try positive(layer.kernel, "kernel")
                let s = try positive(layer.stride, "stride", default: 1)
                let p = try positive(layer.padding, "padding", default: 0, minimum: 0)
                guard x.height + 2 * p >= k, x.width + 2 * p >= k else {
                    throw fail(layer.name, "kernel", "\(k) is larger than the padded \(x.height)x\(x.width) input")
                }
                out = .map((x.height + 2 * p - k) / s + 1, (x.width + 2 * p - k) / s + 1, o)
            case .maxpool, .avgpool:
                try needsMap()
                let k = try positive(layer.kernel, "kernel")
                let s = try positive(layer.stride, "stride", default: k)
                let p = try positive(layer.padding, "padding", default: 0, minimum: 0)
                guard p * 2 <= k else { throw fail(layer.name, "padding", "at most half the kernel, found \(p)") }
                guard x.height + 2 * p >= k, x.width + 2 * p >= k else {
                    throw fail(layer.name, "kernel", "\(k) is larger than the padded \(x.height)x\(x.width) input")
                }
                out = .map((x.height + 2 * p - k) / s + 1, (x.width + 2 * p - k) / s + 1, x.channels)
            case .batchnorm:
                try needsMap()
                out = x
            case .relu:
                out = x
            case .globalavgpool:
                try needsMap()
                out = .vector(x.channels)
            case .flatten:
                out = .vector(x.count)
            case .linear:
                guard x.isFlat else {
                    throw fail(layer.name, "inputs", "linear needs a flat vector; put globalavgpool or flatten before it")
                }
                out = .vector(try positive(layer.outChannels, "out"))
            case .add:
                guard inputs[0] == inputs[1] else {
                    throw fail(layer.name, "inputs", "shapes differ: '\(producers[0])' gives \(inputs[0]), '\(producers[1])' gives \(inputs[1])")
                }
                out = x
            }
            index[layer.name] = i
            shapes.append(out)
        }
        let last = layers[layers.count - 1]
        guard shapes[shapes.count - 1] == .vector(classes) else {
            throw fail(last.name, "out", "the last layer must give \(classes) class scores, found \(shapes[shapes.count - 1])")
        }
        return shapes
    }

    /// Index of each layer's producers (-1 for the image), in `layers` order.
    public func producerIndices() -> [[Int]] {
        var index: [String: Int] = [:]
        return layers.enumerated().map { i, layer in
            defer { index[layer.name] = i }
            let producers = layer.inputs ?? [i == 0 ? Self.imageName : layers[i - 1].name]
            return producers.map { $0 == Self.imageName ? -1 : index[$0]! }
        }
    }
}

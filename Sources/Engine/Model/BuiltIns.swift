// The reference models of docs/design.md §3, with the layer names of
// reference/torch_models.py so checkpoints load into PyTorch.

public enum BuiltInModel: String, CaseIterable, Sendable {
    case convnetS = "convnet-s"
    case resnet20
    case resnet56

    /// The architecture for an input of (channels, height, width) and `classes` classes.
    /// `widths` optionally overrides the prunable widths: the five conv widths of convnet-s,
    /// or the inner width of every block of a ResNet, stage by stage.
    public func architecture(input: [Int] = [1, 28, 28], classes: Int = 10, widths: [Int]? = nil) -> Architecture {
        switch self {
        case .convnetS: return Self.convnetS(input: input, classes: classes, widths: widths ?? [32, 32, 64, 64, 128])
        case .resnet20: return Self.resnet(name: rawValue, blocks: 3, input: input, classes: classes, inner: widths)
        case .resnet56: return Self.resnet(name: rawValue, blocks: 9, input: input, classes: classes, inner: widths)
        }
    }

    static func convnetS(input: [Int], classes: Int, widths: [Int]) -> Architecture {
        var layers: [LayerSpec] = []
        for i in 1...5 {
            layers.append(LayerSpec(name: "conv\(i)", kind: .conv2d, outChannels: widths[i - 1], kernel: 3, padding: 1, bias: false))
            layers.append(LayerSpec(name: "bn\(i)", kind: .batchnorm))
            layers.append(LayerSpec(name: "relu\(i)", kind: .relu))
            if i == 2 || i == 4 { layers.append(LayerSpec(name: "pool\(i / 2)", kind: .maxpool, kernel: 2)) }
        }
        layers.append(LayerSpec(name: "gap", kind: .globalavgpool))
        layers.append(LayerSpec(name: "fc", kind: .linear, outChannels: classes, bias: true))
        return Architecture(name: "convnet-s", input: input, classes: classes, layers: layers)
    }

    static func resnet(name: String, blocks: Int, input: [Int], classes: Int, inner: [Int]?) -> Architecture {
        var layers = [
            LayerSpec(name: "conv1", kind: .conv2d, outChannels: 16, kernel: 3, padding: 1, bias: false),
            LayerSpec(name: "bn1", kind: .batchnorm),
            LayerSpec(name: "relu", kind: .relu),
        ]
        var cin = 16, blockIndex = 0, previous = "relu"
        for (stage, (width, stride)) in zip([16, 32, 64], [1, 2, 2]).enumerated() {
            for b in 0..<blocks {
                let p = "layer\(stage + 1).\(b)."
                let s = b == 0 ? stride : 1
                let innerWidth = inner?[blockIndex] ?? width
                layers += [
                    LayerSpec(name: p + "conv1", kind: .conv2d, inputs: [previous], outChannels: innerWidth, kernel: 3, stride: s, padding: 1, bias: false),
                    LayerSpec(name: p + "bn1", kind: .batchnorm),
                    LayerSpec(name: p + "relu1", kind: .relu),
                    LayerSpec(name: p + "conv2", kind: .conv2d, outChannels: width, kernel: 3, padding: 1, bias: false),
                    LayerSpec(name: p + "bn2", kind: .batchnorm),
                ]
                var shortcut = previous
                if s != 1 || cin != width {  // projection shortcut (option B)
                    layers += [
                        LayerSpec(name: p + "shortcut.0", kind: .conv2d, inputs: [previous], outChannels: width, kernel: 1, stride: s, bias: false),
                        LayerSpec(name: p + "shortcut.1", kind: .batchnorm),
                    ]
                    shortcut = p + "shortcut.1"
                }
                layers += [
                    LayerSpec(name: p + "add", kind: .add, inputs: [p + "bn2", shortcut]),
                    LayerSpec(name: p + "relu2", kind: .relu),
                ]
                previous = p + "relu2"
                cin = width
                blockIndex += 1
            }
        }
        layers.append(LayerSpec(name: "gap", kind: .globalavgpool))
        layers.append(LayerSpec(name: "fc", kind: .linear, outChannels: classes, bias: true))
        return Architecture(name: name, input: input, classes: classes, layers: layers)
    }
}

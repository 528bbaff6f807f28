import Engine

// torchvision's ResNet-50 (He et al. 2016, "v1.5": the stride sits on the 3x3 convolution)
// at 3x224x224, built from the engine's kinds, for measuring the explorer on a model of
// realistic size: 4.09 G MACs, 25.6 M parameters, 53 convolutions. Layer names follow
// torchvision's state_dict ("layer2.0.downsample.0"), with the activations named apart.

public enum ResNet50 {
    public static func architecture(input: [Int] = [3, 224, 224], classes: Int = 1000) -> Architecture {
        var layers = [
            LayerSpec(name: "conv1", kind: .conv2d, outChannels: 64, kernel: 7, stride: 2, padding: 3, bias: false),
            LayerSpec(name: "bn1", kind: .batchnorm),
            LayerSpec(name: "relu", kind: .relu),
            LayerSpec(name: "maxpool", kind: .maxpool, kernel: 3, stride: 2, padding: 1),
        ]
        var previous = "maxpool", inputs = 64
        for (stage, (blocks, planes, stride)) in [(3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)].enumerated() {
            for block in 0..<blocks {
                let p = "layer\(stage + 1).\(block)."
                let s = block == 0 ? stride : 1
                let outputs = planes * 4
                layers += [
                    LayerSpec(name: p + "conv1", kind: .conv2d, inputs: [previous], outChannels: planes, kernel: 1, bias: false),
                    LayerSpec(name: p + "bn1", kind: .batchnorm),
                    LayerSpec(name: p + "relu1", kind: .relu),
                    LayerSpec(name: p + "conv2", kind: .conv2d, outChannels: planes, kernel: 3, stride: s, padding: 1, bias: false),
                    LayerSpec(name: p + "bn2", kind: .batchnorm),
                    LayerSpec(name: p + "relu2", kind: .relu),
                    LayerSpec(name: p + "conv3", kind: .conv2d, outChannels: outputs, kernel: 1, bias: false),
                    LayerSpec(name: p + "bn3", kind: .batchnorm),
                ]
                var shortcut = previous
                if block == 0 && (s != 1 || inputs != outputs) {
                    layers += [
                        LayerSpec(name: p + "downsample.0", kind: .conv2d, inputs: [previous], outChannels: outputs, kernel: 1, stride: s, bias: false),
                        LayerSpec(name: p + "downsample.1", kind: .batchnorm),
                    ]
                    shortcut = p + "downsample.1"
                }
                layers += [
                    LayerSpec(name: p + "add", kind: .add, inputs: [p + "bn3", shortcut]),
                    LayerSpec(name: p + "relu3", kind: .relu),
                ]
                previous = p + "relu3"
                inputs = outputs
            }
        }
        layers += [
            LayerSpec(name: "avgpool", kind: .globalavgpool),
            LayerSpec(name: "fc", kind: .linear, outChannels: classes, bias: true),
        ]
        return Architecture(name: "resnet50", input: input, classes: classes, layers: layers)
    }
}

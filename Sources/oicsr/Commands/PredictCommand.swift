import Engine
import Foundation

/// `oicsr predict`: the logits of a checkpoint for inputs given as a tensor, so another
/// program (the PyTorch bridge's parity tests, a user's script) can compare or use them.
enum PredictCommand {
    struct Options {
        static let input = Option.text("input", placeholder: "FILE", help: "safetensors file with a tensor 'input' (N, C, H, W), already normalised")
        static let out = Option.text("out", placeholder: "FILE", help: "safetensors file to write the tensor 'logits' (N, classes) to")
        static let batchSize = Option.count("batch-size", default: 64, maximum: 1 << 16, help: "images per forward pass")
        static let spec = CommandSpec(
            name: "predict", summary: "Class scores of a checkpoint for input tensors, in evaluation mode.",
            usage: "predict CHECKPOINT --input FILE --out FILE",
            options: [input.declaration, out.declaration, OutputOptions.force.declaration, batchSize.declaration],
            positionals: 1...1,
            details: "The inputs are in PyTorch's layout (N, C, H, W) and already normalised as the model expects;\nthe logits are written in the same order.")

        let checkpoint: String
        let input: String
        let output: OutputOptions
        let batchSize: Int

        init(_ arguments: ParsedArguments) throws(UsageError) {
            checkpoint = arguments.positionals[0]
            guard let input = try arguments.valueIfAny(Self.input) else { throw UsageError(argument: "--input", problem: "needed: the inputs to predict") }
            guard let out = try arguments.valueIfAny(Self.out) else { throw UsageError(argument: "--out", problem: "needed: where to write the logits") }
            self.input = input
            output = try OutputOptions(path: out, option: Self.out.name, force: arguments.flag(OutputOptions.force), source: checkpoint)
            batchSize = try arguments.value(Self.batchSize)
        }
    }

    static let spec = Options.spec

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let (model, _) = try Checkpoint.load(path: options.checkpoint)
        let file = try SafeTensorsFile.read(path: options.input)
        let (c, h, w) = (model.architecture.input[0], model.architecture.input[1], model.architecture.input[2])
        guard let tensor = file["input"] else {
            throw UsageError(argument: "--input", problem: "\(options.input) holds no tensor 'input'")
        }
        guard tensor.shape.count == 4, Array(tensor.shape[1...]) == [c, h, w] else {
            throw UsageError(argument: "--input", problem: "\(options.input): 'input' has shape \(tensor.shape), the model takes (N, \(c), \(h), \(w))")
        }
        let count = tensor.shape[0], perImage = c * h * w, classes = model.architecture.classes
        var logits: [Float] = []
        logits.reserveCapacity(count * classes)
        let batch = Tensor(shape: [0])
        var start = 0
        while start < count {
            let n = min(options.batchSize, count - start)
            // NCHW → NHWC, the engine's layout.
            var values = [Float](repeating: 0, count: n * perImage)
            for i in 0..<n {
                for channel in 0..<c {
                    for pixel in 0..<(h * w) {
                        values[(i * h * w + pixel) * c + channel] = tensor.values[(start + i) * perImage + channel * h * w + pixel]
                    }
                }
            }
            batch.reshape([n, h, w, c])
            batch.copy(from: values)
            logits += model.forward(batch, training: false).values
            start += n
        }
        try SafeTensorsFile(tensors: [.init(name: "logits", shape: [count, classes], values: logits)]).write(path: options.output.path)
    }
}

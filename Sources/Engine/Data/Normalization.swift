// Per-channel input normalisation, x' = (x/255 − mean[c]) / std[c], as torchvision's
// ToTensor + Normalize. The statistics are those of the training set and are stored in
// checkpoints, so a model is always evaluated with the inputs it was trained on.

/// Per-channel mean and standard deviation of pixel/255 (values in 0…1).
public struct Normalization: Codable, Sendable, Equatable {
    /// Mean of pixel/255, one per channel.
    public var mean: [Float]
    /// Standard deviation of pixel/255, one per channel; never zero.
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "\(mean.count) means for \(std.count) standard deviations")
        precondition(std.allSatisfy { $0 > 0 }, "standard deviations must be positive: \(std)")
        self.mean = mean
        self.std = std
    }

    /// Leaves pixel/255 unchanged.
    public static func identity(channels: Int) -> Normalization {
        Normalization(mean: Array(repeating: 0, count: channels), std: Array(repeating: 1, count: channels))
    }

    /// The statistics of `dataset`: population mean and standard deviation of pixel/255 over
    /// every pixel of every image, per channel. A constant channel gets std 1 instead of 0.
    public static func fit(_ dataset: Dataset) -> Normalization {
        // Pixels are bytes, so a 256-bin histogram per channel gives exact sums in one
        // cheap pass, with no floating-point accumulation error over millions of pixels.
        let c = dataset.channels
        var histogram = [Int](repeating: 0, count: 256 * c)
        dataset.images.withUnsafeBufferPointer { pixels in
            histogram.withUnsafeMutableBufferPointer { bins in
                var i = 0
                while i < pixels.count {
                    for channel in 0..<c { bins[channel << 8 | Int(pixels[i + channel])] += 1 }
                    i += c
                }
            }
        }
        var mean = [Float](), std = [Float]()
        for channel in 0..<c {
            let bins = histogram[channel * 256 ..< (channel + 1) * 256]
            let n = Double(bins.reduce(0, +))
            guard n > 0 else { mean.append(0); std.append(1); continue }
            var sum = 0.0
            for (value, k) in zip(0..., bins) { sum += Double(value) / 255 * Double(k) }
            let m = sum / n
            var squares = 0.0
            for (value, k) in zip(0..., bins) { let d = Double(value) / 255 - m; squares += d * d * Double(k) }
            let s = (squares / n).squareRoot()
            mean.append(Float(m))
            std.append(s > 0 ? Float(s) : 1)
        }
        return Normalization(mean: mean, std: std)
    }
}

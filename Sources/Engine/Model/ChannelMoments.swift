import Foundation

// What a layer's output is expected to hold in inference, channel by channel, as far as the
// weights alone can tell: a BatchNorm sets each channel to N(β, γ²) (its running statistics
// standardise what arrives), and the layers after it move that mean and variance in ways
// their rules know (a ReLU rectifies it, a residual sum adds it). Surgery uses it to fold a
// removed channel's expected value into what read it (Pruning's Compensation). NaN marks
// what cannot be told: after a convolution or a linear layer, until the next BatchNorm.

/// Per channel of a map (per feature of a vector): the expected mean and variance.
public struct ChannelMoments: Equatable, Sendable {
    public var mean: [Double]
    public var variance: [Double]

    public init(mean: [Double], variance: [Double]) {
        precondition(mean.count == variance.count, "one variance per mean")
        self.mean = mean; self.variance = variance
    }

    /// Nothing known about `count` channels.
    public static func unknown(_ count: Int) -> ChannelMoments {
        ChannelMoments(mean: Array(repeating: .nan, count: count), variance: Array(repeating: .nan, count: count))
    }

    /// The values of each channel of a BatchNorm's output: N(β, γ²).
    public static func normalized(scale: [Float], shift: [Float]) -> ChannelMoments {
        ChannelMoments(mean: shift.map(Double.init), variance: scale.map { Double($0) * Double($0) })
    }

    public var count: Int { mean.count }

    /// max(0, X) of each channel, X taken as normal with these moments (the rectified normal's
    /// mean and variance; a channel of no variance is max(0, mean) exactly).
    public func rectified() -> ChannelMoments {
        var result = self
        for c in mean.indices where !mean[c].isNaN && !variance[c].isNaN {
            let m = mean[c], v = variance[c]
            guard v > 0 else { result.mean[c] = max(m, 0); result.variance[c] = 0; continue }
            let s = v.squareRoot(), a = m / s
            let cdf = 0.5 * erfc(-a / 2.0.squareRoot()), pdf = exp(-a * a / 2) / (2 * Double.pi).squareRoot()
            let first = m * cdf + s * pdf
            let second = (m * m + v) * cdf + m * s * pdf
            result.mean[c] = first
            result.variance[c] = max(second - first * first, 0)
        }
        return result
    }

    /// The sum of independent channels: means and variances add.
    public static func + (a: ChannelMoments, b: ChannelMoments) -> ChannelMoments {
        ChannelMoments(mean: zip(a.mean, b.mean).map(+), variance: zip(a.variance, b.variance).map(+))
    }

    /// A map's channels as the features of its flattening: each channel's moments for each of
    /// its `pixels` features, channel-major.
    public func repeated(_ pixels: Int) -> ChannelMoments {
        ChannelMoments(mean: mean.flatMap { Array(repeating: $0, count: pixels) },
                       variance: variance.flatMap { Array(repeating: $0, count: pixels) })
    }
}

extension Model {
    /// Every layer's output moments, by layer index, in one pass over the graph (layers come
    /// after the ones they read); the image is not known.
    public func channelMoments() -> [ChannelMoments] {
        var moments: [ChannelMoments] = []
        for layer in graph.layers {
            let inputs = zip(layer.producers, layer.inputs).map { producer, shape in
                producer < 0 ? .unknown(shape.channels) : moments[producer]
            }
            let tensors = self.tensors(ofLayer: layer.index).map(\.tensor.values)
            moments.append(layer.rule.moments(layer, inputs: inputs, tensors: tensors))
        }
        return moments
    }
}

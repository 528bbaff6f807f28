import Engine

// Where each out-in-channel's weights lie inside the model's parameter tensors, as strided
// runs, so energies, regularizers and masks can visit exactly the members of a group.

/// Elements `start + channel·channelStep + r·stride + k` for r < repeats, k < run, of one
/// parameter: the slice of that parameter belonging to one channel.
struct Segment {
    let parameter: Parameter
    let start: Int
    let channelStep: Int
    let run: Int
    let stride: Int
    let repeats: Int

    var countPerChannel: Int { run * repeats }

    /// Calls `body` with every flat index of `channel`'s slice.
    @inline(__always)
    func forEachIndex(channel: Int, _ body: (Int) -> Void) {
        let base = start + channel * channelStep
        for r in 0..<repeats {
            let at = base + r * stride
            for k in 0..<run { body(at + k) }
        }
    }

    /// Filter `offset + channel` of (out, kh, kw, in) or (out, in): a producer's (offset 0) or
    /// a depthwise convolution's.
    static func outRows(_ p: Parameter, offset: Int = 0) -> Segment {
        let rowLength = p.value.count / p.value.shape[0]
        return Segment(parameter: p, start: offset * rowLength, channelStep: rowLength, run: rowLength, stride: 0, repeats: 1)
    }

    /// One value per channel: a bias, a BatchNorm scale or shift.
    static func perChannel(_ p: Parameter, offset: Int = 0) -> Segment {
        Segment(parameter: p, start: offset, channelStep: 1, run: 1, stride: 0, repeats: 1)
    }

    /// A consumer's input slice: (out, kh, kw, in) column `offset + channel`, or the
    /// `featuresPerChannel` columns of a linear layer's (out, in) matrix.
    static func inColumns(_ p: Parameter, _ slice: ChannelSlice) -> Segment {
        switch p.role {
        case .convolutionWeight(let out, let kh, let kw, let input):
            return Segment(parameter: p, start: slice.offset, channelStep: 1, run: 1, stride: input, repeats: out * kh * kw)
        case .linearWeight(let out, let input):
            let f = slice.featuresPerChannel
            return Segment(parameter: p, start: slice.offset * f, channelStep: f, run: f, stride: input, repeats: out)
        case .perChannel:
            preconditionFailure("\(p.name) has no input channels")
        }
    }
}

/// The segments of every group of a model.
struct GroupTensors {
    /// Per group: the filters (and biases) of its producers.
    var filters: [[Segment]] = []
    /// Per group: the filters (and biases) of its depthwise convolutions.
    var depthwise: [[Segment]] = []
    /// Per group: BatchNorm scales (γ).
    var scales: [[Segment]] = []
    /// Per group: BatchNorm shifts (β).
    var shifts: [[Segment]] = []
    /// Per group: the consumers' input slices.
    var inputs: [[Segment]] = []

    init(model: Model, groups: ChannelGroups) {
        func parameter(_ name: String) -> Parameter? { model.parameter(named: name) }
        func rows(_ layer: String, offset: Int) -> [Segment] {
            var segments = [Segment.outRows(parameter(layer + ".weight")!, offset: offset)]
            if let bias = parameter(layer + ".bias") { segments.append(.perChannel(bias, offset: offset)) }
            return segments
        }
        for group in groups.groups {
            filters.append(group.producers.flatMap { rows($0, offset: 0) })
            depthwise.append(group.depthwise.flatMap { rows($0.layer, offset: $0.offset) })
            scales.append(group.batchNorms.map { .perChannel(parameter($0.layer + ".weight")!, offset: $0.offset) })
            shifts.append(group.batchNorms.map { .perChannel(parameter($0.layer + ".bias")!, offset: $0.offset) })
            inputs.append(group.consumers.map { .inColumns(parameter($0.layer + ".weight")!, $0) })
        }
    }

    /// The out part of group g: filters, depthwise filters, and BatchNorm scale and shift
    /// when `withBatchNorm`.
    func outPart(_ g: Int, withBatchNorm: Bool) -> [Segment] {
        filters[g] + depthwise[g] + (withBatchNorm ? scales[g] + shifts[g] : [])
    }

    /// The whole out-in-channel group g (docs/design.md §5).
    func outInGroup(_ g: Int, withBatchNorm: Bool) -> [Segment] {
        outPart(g, withBatchNorm: withBatchNorm) + inputs[g]
    }

    /// Σ x² over `segments` for one channel, accumulated in double: a float sum of a few
    /// thousand squares carries relative errors near 1e-4, enough to reorder channels whose
    /// energies differ by less than that, and the ranking is what the selection is made of.
    static func squaredNorm(_ segments: [Segment], channel: Int) -> Double {
        var sum = 0.0
        for segment in segments {
            segment.parameter.value.withUnsafeBufferPointer { values in
                segment.forEachIndex(channel: channel) {
                    let x = Double(values[$0])
                    sum += x * x
                }
            }
        }
        return sum
    }

    static func count(_ segments: [Segment]) -> Int { segments.reduce(0) { $0 + $1.countPerChannel } }
}

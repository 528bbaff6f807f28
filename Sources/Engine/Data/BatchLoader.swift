// Turns a byte data set into float batches: shuffled order, augmentation, normalisation.
//
// Repeatability: the order of epoch e is a pure function of (seed, e), and the augmentation
// of the i-th example of batch b of epoch e a pure function of (seed, e, b, i). A run resumed
// at epoch k therefore sees exactly the batches the uninterrupted run would have seen, and
// batches can be filled on several threads without changing the result.

/// Fills float batches from a `Dataset`. Not thread-safe: one loader per consumer.
public final class BatchLoader {
    public let dataset: Dataset
    public let batchSize: Int
    public let shuffle: Bool
    public let augmentation: Augmentation
    public let normalization: Normalization
    public let seed: UInt64
    /// The epoch whose order `loadBatch` follows.
    public private(set) var epoch = 0

    /// Example indices in the order of the current epoch.
    private var order: [Int]
    /// `(v/255 − mean[c]) / std[c]` for every channel c and byte v, at `c * 256 + v`:
    /// normalising a pixel is one table look-up.
    let table: [Float]

    /// Batches of `batchSize` examples from `dataset`; call `startEpoch` before each epoch
    /// (epoch 0 is started here). `normalization` must have one entry per channel.
    public init(dataset: Dataset, batchSize: Int, shuffle: Bool, augmentation: Augmentation,
                normalization: Normalization, seed: UInt64) {
        precondition(batchSize > 0, "batch size must be positive, got \(batchSize)")
        precondition(normalization.mean.count == dataset.channels,
                     "normalisation has \(normalization.mean.count) channels, data set \(dataset.channels)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.augmentation = augmentation
        self.normalization = normalization
        self.seed = seed
        self.order = Array(0..<dataset.count)
        var table = [Float](repeating: 0, count: 256 * dataset.channels)
        for c in 0..<dataset.channels {
            for v in 0..<256 {
                table[c * 256 + v] = (Float(v) / 255 - normalization.mean[c]) / normalization.std[c]
            }
        }
        self.table = table
        startEpoch(0)
    }

    /// Number of batches per epoch; the last one may be smaller than `batchSize`.
    public var batchesPerEpoch: Int { (dataset.count + batchSize - 1) / batchSize }

    /// Number of examples in batch `index`.
    public func size(ofBatch index: Int) -> Int {
        min(batchSize, dataset.count - index * batchSize)
    }

    /// Sets the example order for `epoch`: a seeded Fisher–Yates shuffle when `shuffle`,
    /// else the data set order.
    public func startEpoch(_ epoch: Int) {
        self.epoch = epoch
        for i in order.indices { order[i] = i }
        guard shuffle, order.count > 1 else { return }
        var generator = SeededGenerator(seed: mix(mix(seed, Stream.shuffle), UInt64(bitPattern: Int64(epoch))))
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, generator.nextIndex(below: i + 1))
        }
    }

    /// Fills batch `index` of the current epoch: `images` becomes [b, H, W, C] (NHWC, float,
    /// normalised and augmented) and `labels` the b classes, where b = `size(ofBatch:)`.
    /// Buffers are reused: after the first batch nothing is allocated.
    public func loadBatch(_ index: Int, into images: Tensor, labels: inout [Int32]) {
        precondition(index >= 0 && index < batchesPerEpoch, "batch \(index) of \(batchesPerEpoch)")
        let start = index * batchSize, b = size(ofBatch: index)
        let h = dataset.height, w = dataset.width, c = dataset.channels
        let s = images.shape
        if !(s.count == 4 && s[0] == b && s[1] == h && s[2] == w && s[3] == c) {
            images.reshape([b, h, w, c])
        }
        labels.removeAll(keepingCapacity: true)
        for i in 0..<b { labels.append(dataset.labels[order[start + i]]) }

        let pixels = dataset.pixelsPerImage
        let batchSeed = mix(mix(mix(seed, Stream.augmentation), UInt64(bitPattern: Int64(epoch))), UInt64(index))
        let augmentation = augmentation
        dataset.images.withUnsafeBufferPointer { source in
            order.withUnsafeBufferPointer { order in
                table.withUnsafeBufferPointer { table in
                    images.withUnsafeMutableBufferPointer { target in
                        Parallel.forRanges(b, costPerItem: pixels) { range in
                            for i in range {
                                let from = source.baseAddress! + order[start + i] * pixels
                                let to = target.baseAddress! + i * pixels
                                if augmentation.isNone {
                                    Self.normalize(from, to, count: pixels, channels: c, table: table)
                                } else {
                                    var generator = SeededGenerator(seed: mix(batchSeed, UInt64(i)))
                                    let p = augmentation.padCrop
                                    // Window origin in padded coordinates, uniform in 0...2p.
                                    let dy = p > 0 ? generator.nextIndex(below: 2 * p + 1) - p : 0
                                    let dx = p > 0 ? generator.nextIndex(below: 2 * p + 1) - p : 0
                                    let flip = augmentation.horizontalFlip && generator.next() >> 63 == 1
                                    Self.crop(from, to, height: h, width: w, channels: c,
                                              dy: dy, dx: dx, flip: flip, table: table)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static func normalize(_ from: UnsafePointer<UInt8>, _ to: UnsafeMutablePointer<Float>,
                                  count: Int, channels c: Int, table: UnsafeBufferPointer<Float>) {
        var i = 0
        while i < count {
            for ch in 0..<c { to[i + ch] = table[ch << 8 | Int(from[i + ch])] }
            i += c
        }
    }

    /// out[y][x] = in[y + dy][x' + dx] with x' = W−1−x when flipped (crop, then flip, as
    /// torchvision applies them); outside the image the raw value is 0 (black padding).
    static func crop(_ from: UnsafePointer<UInt8>, _ to: UnsafeMutablePointer<Float>,
                             height h: Int, width w: Int, channels c: Int,
                             dy: Int, dx: Int, flip: Bool, table: UnsafeBufferPointer<Float>) {
        for y in 0..<h {
            let sy = y + dy
            for x in 0..<w {
                let sx = (flip ? w - 1 - x : x) + dx
                let out = to + (y * w + x) * c
                if sy >= 0 && sy < h && sx >= 0 && sx < w {
                    let pixel = from + (sy * w + sx) * c
                    for ch in 0..<c { out[ch] = table[ch << 8 | Int(pixel[ch])] }
                } else {
                    for ch in 0..<c { out[ch] = table[ch << 8] }
                }
            }
        }
    }
}

/// Separate random streams for shuffling and augmentation, so that neither perturbs the other.
private enum Stream {
    static let shuffle: UInt64 = 0x5348_5546_464C_4531  // "SHUFFLE1"
    static let augmentation: UInt64 = 0x4155_474D_454E_5431  // "AUGMENT1"
}

/// Combines two 64-bit values into a well-mixed seed (SplitMix64's finaliser).
@inline(__always)
private func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
    var z = a ^ (b &+ 0x9E37_79B9_7F4A_7C15 &+ (a << 6) &+ (a >> 2))
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

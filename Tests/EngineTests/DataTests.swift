import Foundation
import Testing
@testable import Engine

// Data sets are written by the tests in the real on-disk formats (IDX, gzip'd IDX, CIFAR
// binary) into a fresh folder, then loaded through DataSource as a user's files would be.

@Suite("Data sets, normalisation and batches")
struct DataTests {
    // MARK: IDX

    @Test func rawIDXRoundTrip() throws {
        let folder = try ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: false)
        let splits = try DataSource.load(folder: folder.path)
        #expect(splits.train.name == "mnist")
        #expect(splits.train.classNames == (0..<10).map(String.init))
        try expectEqual(splits, .tiny)
    }

    @Test func gzipIDXRoundTrip() throws {
        let folder = try ScratchFolder("fashion-mnist")
        try folder.writeIDX(.tiny, gzip: true)
        let splits = try DataSource.load(folder: folder.path)
        #expect(splits.train.name == "fashion-mnist")
        #expect(splits.test.classNames.first == "T-shirt/top")
        #expect(splits.test.classNames.last == "Ankle boot")
        try expectEqual(splits, .tiny)
        #expect(try DataSource.load(folder: folder.path, name: "mine").train.name == "mine")
    }

    @Test func idxBadMagic() throws {
        let folder = try ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: false)
        // A labels file where the training images belong.
        try folder.write(IDXSet.labelsFile([1, 2]), to: "train-images-idx3-ubyte")
        try expectLoadError(folder, file: "train-images-idx3-ubyte",
                            says: "bad magic number 0x00000801: expected 0x00000803")
    }

    @Test func idxTruncatedImages() throws {
        let folder = try ScratchFolder("fashion")
        try folder.writeIDX(.tiny, gzip: true)
        let whole = IDXSet.imagesFile(IDXSet.tiny.trainImages, height: 2, width: 3)
        try folder.write(Gzip.compress(Array(whole.dropLast(4))), to: "train-images-idx3-ubyte.gz")
        try expectLoadError(folder, file: "train-images-idx3-ubyte.gz",
                            says: "truncated: expected \(whole.count) bytes for dimensions [5, 2, 3], found \(whole.count - 4)")
    }

    @Test func idxLabelCountMismatch() throws {
        let folder = try ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: false)
        try folder.write(IDXSet.labelsFile([1, 2, 3]), to: "t10k-labels-idx1-ubyte")
        try expectLoadError(folder, file: "t10k-labels-idx1-ubyte", says: "3 labels for 2 images")
    }

    @Test func idxLabelOutOfRange() throws {
        let folder = try ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: false)
        try folder.write(IDXSet.labelsFile([0, 1, 10, 3, 4]), to: "train-labels-idx1-ubyte")
        try expectLoadError(folder, file: "train-labels-idx1-ubyte",
                            says: "label 10 of example 2 is out of range: expected 0...9")
    }

    @Test func corruptGzip() throws {
        let folder = try ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: true)
        var bytes = Gzip.compress(IDXSet.labelsFile([0, 1, 2, 9, 3]))
        for i in 12 ..< bytes.count - 8 { bytes[i] ^= 0x5a }  // the deflate data, not the header
        try folder.write(bytes, to: "train-labels-idx1-ubyte.gz")
        try expectLoadError(folder, file: "train-labels-idx1-ubyte.gz", says: "corrupt gzip stream")
    }

    @Test func truncatedGzip() throws {
        let folder = try ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: true)
        let bytes = Gzip.compress(IDXSet.imagesFile(IDXSet.tiny.testImages, height: 2, width: 3))
        try folder.write(Array(bytes.prefix(bytes.count / 2)), to: "t10k-images-idx3-ubyte.gz")
        try expectLoadError(folder, file: "t10k-images-idx3-ubyte.gz", says: "truncated gzip stream")
    }

    @Test func gzipWithSeveralMembers() throws {
        // RFC 1952 §2.2: a gzip file is a series of members; gunzip concatenates them.
        let joined = Gzip.compress([1, 2, 3]) + Gzip.compress([4, 5]) + [0, 0, 0]
        let bytes = try joined.withUnsafeBytes { try Gzip.decompress($0, path: "x.gz") }
        #expect(bytes == [1, 2, 3, 4, 5])
    }

    @Test func missingIDXFile() throws {
        let folder = try ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: false)
        try FileManager.default.removeItem(atPath: folder.path + "/t10k-images-idx3-ubyte")
        try expectLoadError(folder, file: "t10k-images-idx3-ubyte[.gz]",
                            says: "missing file; an IDX data set needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte")
    }

    @Test func missingFolder() {
        let path = "/nonexistent/oicsr-data"
        let error = #expect(throws: DataError.self) { try DataSource.load(folder: path) }
        #expect(error?.file == path)
        #expect(error?.description.hasPrefix("\(path): no such folder; expected one of:") == true)
        #expect(error?.description.contains("data_batch_1.bin") == true)
    }

    @Test func folderWithoutDataSet() throws {
        let folder = try ScratchFolder("empty")
        try folder.write([1, 2, 3], to: "notes.txt")
        let error = #expect(throws: DataError.self) { try DataSource.load(folder: folder.path) }
        #expect(error?.description.hasPrefix("\(folder.path): no data set found; expected one of:") == true)
    }

    @Test func defaultFolder() {
        #expect(DataSource.defaultFolder(environment: [:]) == "/usr/share/datasets/fashion-mnist")
        #expect(DataSource.defaultFolder(environment: ["OICSR_DATA": "/data/mnist"]) == "/data/mnist")
        #expect(DataSource.defaultFolder(environment: ["OICSR_DATA": ""]) == "/usr/share/datasets/fashion-mnist")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
    func installedFashionMNIST() throws {
        let splits = try DataSource.load(folder: "/usr/share/datasets/fashion-mnist")
        #expect(splits.train.count == 60000)
        #expect(splits.test.count == 10000)
        #expect(splits.train.images.count == 60000 * 28 * 28)
        #expect((splits.train.height, splits.train.width, splits.train.channels) == (28, 28, 1))
        #expect(splits.train.classes == 10)
        #expect(splits.train.name == "fashion-mnist")
        #expect(Set(splits.test.labels) == Set(0..<10))
    }

    // MARK: CIFAR

    @Test func cifar10() throws {
        // The archive's own layout: the files inside cifar-10-batches-bin/.
        let folder = try ScratchFolder("downloads")
        try FileManager.default.createDirectory(atPath: folder.path + "/cifar-10-batches-bin", withIntermediateDirectories: false)
        var labels: [Int32] = []
        for batch in 1...5 {
            let records = [(label: UInt8(batch), seed: batch), (label: UInt8(9 - batch), seed: 10 + batch)]
            labels += records.map { Int32($0.label) }
            try folder.write(records.flatMap { [$0.label] + CIFARImage.chw(seed: $0.seed) },
                             to: "cifar-10-batches-bin/data_batch_\(batch).bin")
        }
        try folder.write([7] + CIFARImage.chw(seed: 99), to: "cifar-10-batches-bin/test_batch.bin")

        #expect(try DataSource.detectFormat(folder: folder.path) == .cifar10)
        let splits = try DataSource.load(folder: folder.path)
        #expect(splits.train.name == "cifar10")
        #expect((splits.train.height, splits.train.width, splits.train.channels, splits.train.classes) == (32, 32, 3, 10))
        #expect(splits.train.classNames.first == "airplane" && splits.train.classNames.last == "truck")
        #expect(splits.train.labels == labels)
        #expect(splits.test.labels == [7])
        #expect(Array(splits.train.images[3 * 3072 ..< 4 * 3072]) == CIFARImage.hwc(seed: 12))
        #expect(splits.test.images == CIFARImage.hwc(seed: 99))
    }

    @Test func cifar100UsesFineLabels() throws {
        let folder = try ScratchFolder("cifar100")
        try folder.write([3, 57] + CIFARImage.chw(seed: 1) + [19, 99] + CIFARImage.chw(seed: 2), to: "train.bin")
        try folder.write([0, 0] + CIFARImage.chw(seed: 3), to: "test.bin")
        let splits = try DataSource.load(folder: folder.path)
        #expect(splits.train.name == "cifar100")
        #expect(splits.train.classes == 100)
        #expect(splits.train.classNames[57] == "57")
        #expect(splits.train.labels == [57, 99])
        #expect(Array(splits.train.images[3072...]) == CIFARImage.hwc(seed: 2))
        #expect(splits.test.labels == [0])
    }

    @Test func cifarTruncatedRecord() throws {
        let folder = try ScratchFolder("cifar100")
        try folder.write([3, 57] + CIFARImage.chw(seed: 1) + [19, 99] + CIFARImage.chw(seed: 2).dropLast(), to: "train.bin")
        try folder.write([0, 0] + CIFARImage.chw(seed: 3), to: "test.bin")
        try expectLoadError(folder, file: "train.bin",
                            says: "truncated: 6147 bytes is not a whole number of 3074-byte records (1 records and 3073 bytes left over)")
    }

    @Test func cifarLabelOutOfRange() throws {
        let folder = try ScratchFolder("cifar10")
        for batch in 1...5 { try folder.write([1] + CIFARImage.chw(seed: batch), to: "data_batch_\(batch).bin") }
        try folder.write([1] + CIFARImage.chw(seed: 0) + [10] + CIFARImage.chw(seed: 0), to: "test_batch.bin")
        try expectLoadError(folder, file: "test_batch.bin", says: "label 10 of record 1 is out of range: expected 0...9")
    }

    @Test func cifarMissingBatch() throws {
        let folder = try ScratchFolder("cifar10")
        for batch in [1, 2, 4, 5] { try folder.write([1] + CIFARImage.chw(seed: batch), to: "data_batch_\(batch).bin") }
        try folder.write([1] + CIFARImage.chw(seed: 0), to: "test_batch.bin")
        try expectLoadError(folder, file: "data_batch_3.bin",
                            says: "missing file; a CIFAR-10 binary data set needs data_batch_1.bin, data_batch_2.bin")
    }

    // MARK: Normalisation

    @Test func normalizationFit() {
        // Channel 0 holds 0 and 255: mean 0.5, std 0.5. Channel 1 is constant 51 = 0.2: std 1.
        let d = Dataset.synthetic(channels: 2, height: 1, width: 2, images: [[0, 51, 255, 51]], labels: [0])
        let n = Normalization.fit(d)
        #expect(n.mean == [0.5, 0.2])
        #expect(n.std == [0.5, 1])
    }

    // MARK: Batches

    @Test func batchesCoverEveryExampleOncePerEpoch() {
        let d = Dataset.numbered(count: 10)
        let loader = BatchLoader(dataset: d, batchSize: 4, shuffle: true, augmentation: .none,
                                 normalization: .identity(channels: 1), seed: 7)
        #expect(loader.batchesPerEpoch == 3)
        for epoch in 0..<3 {
            loader.startEpoch(epoch)
            let seen = Self.epochLabels(loader)
            #expect(seen.sorted() == Array(0..<10), "epoch \(epoch)")
        }
    }

    @Test func partialLastBatch() {
        let d = Dataset.numbered(count: 10)
        let loader = BatchLoader(dataset: d, batchSize: 4, shuffle: false, augmentation: .none,
                                 normalization: .identity(channels: 1), seed: 7)
        let images = Tensor(shape: [1])
        var labels: [Int32] = []
        loader.loadBatch(2, into: images, labels: &labels)
        #expect(images.shape == [2, 2, 2, 1])
        #expect(labels == [8, 9])
        loader.loadBatch(0, into: images, labels: &labels)
        #expect(images.shape == [4, 2, 2, 1])
        #expect(labels == [0, 1, 2, 3])
    }

    @Test func orderIsAFunctionOfSeedAndEpoch() {
        let d = Dataset.numbered(count: 50)
        func loader(seed: UInt64) -> BatchLoader {
            BatchLoader(dataset: d, batchSize: 8, shuffle: true, augmentation: .cifar,
                        normalization: .identity(channels: 1), seed: seed)
        }
        let first = loader(seed: 3), resumed = loader(seed: 3), other = loader(seed: 4)
        var orders: [[Int32]] = []
        for epoch in 0..<3 {
            first.startEpoch(epoch)
            orders.append(Self.epochLabels(first))
        }
        // A run resumed at epoch 2 sees the same order and the same augmented pixels.
        resumed.startEpoch(2)
        #expect(Self.epochLabels(resumed) == orders[2])
        #expect(Self.batchValues(resumed, 1) == Self.batchValues(first, 1))
        #expect(orders[0] != orders[1] && orders[1] != orders[2])
        other.startEpoch(2)
        #expect(Self.epochLabels(other) != orders[2])
    }

    @Test func normalizationIsApplied() {
        let d = Dataset.synthetic(channels: 2, height: 1, width: 1, images: [[0, 255], [51, 102]], labels: [0, 1])
        let n = Normalization(mean: [0.5, 0.25], std: [0.5, 0.25])
        let loader = BatchLoader(dataset: d, batchSize: 2, shuffle: false, augmentation: .none,
                                 normalization: n, seed: 1)
        let values = Self.batchValues(loader, 0)
        let expected: [Float] = [(0 - 0.5) / 0.5, (1 - 0.25) / 0.25, (0.2 - 0.5) / 0.5, (0.4 - 0.25) / 0.25]
        for (v, e) in zip(values, expected) { #expect(abs(v - e) < 1e-6, "\(values) vs \(expected)") }
    }

    @Test func cropAndFlipByHand() {
        // 3x3 image, 1 channel, pixels 1…9; identity normalisation on pixel/255.
        let image: [UInt8] = [1, 2, 3,
                              4, 5, 6,
                              7, 8, 9]
        let d = Dataset.synthetic(channels: 1, height: 3, width: 3, images: [image], labels: [0])
        let loader = BatchLoader(dataset: d, batchSize: 1, shuffle: false, augmentation: .none,
                                 normalization: Normalization(mean: [0], std: [1 / 255]), seed: 1)
        func crop(dy: Int, dx: Int, flip: Bool) -> [Float] {
            let t = Tensor(shape: [1, 3, 3, 1])
            loader.table.withUnsafeBufferPointer { table in
                image.withUnsafeBufferPointer { source in
                    t.withUnsafeMutableBufferPointer { target in
                        BatchLoader.crop(source.baseAddress!, target.baseAddress!, height: 3, width: 3, channels: 1,
                                         dy: dy, dx: dx, flip: flip, table: table)
                    }
                }
            }
            return t.values.map { $0.rounded() }  // pixel/255*255 is within an ulp of the pixel
        }
        #expect(crop(dy: 0, dx: 0, flip: false) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(crop(dy: 0, dx: 0, flip: true) == [3, 2, 1, 6, 5, 4, 9, 8, 7])
        // Window moved down-right by one: the last row and column fall in the black padding.
        #expect(crop(dy: 1, dx: 1, flip: false) == [5, 6, 0, 8, 9, 0, 0, 0, 0])
        #expect(crop(dy: -1, dx: 0, flip: false) == [0, 0, 0, 1, 2, 3, 4, 5, 6])
        // Crop first, then mirror the crop (torchvision's order).
        #expect(crop(dy: 0, dx: 1, flip: true) == [0, 3, 2, 0, 6, 5, 0, 9, 8])
    }

    @Test func augmentedBatchesAreCropsAndFlips() {
        // Every augmented image must be one of the (2p+1)² × 2 crops/flips, and over many
        // draws both flips and several offsets must occur.
        let image: [UInt8] = (1...16).map(UInt8.init)
        let d = Dataset.synthetic(channels: 1, height: 4, width: 4, images: Array(repeating: image, count: 64),
                                  labels: Array(repeating: 0, count: 64))
        let loader = BatchLoader(dataset: d, batchSize: 64, shuffle: false, augmentation: Augmentation(padCrop: 1, horizontalFlip: true),
                                 normalization: Normalization(mean: [0], std: [1 / 255]), seed: 5)
        var variants: [[Float]: Int] = [:]
        for dy in -1...1 {
            for dx in -1...1 {
                for flip in [false, true] {
                    var out = [Float]()
                    for y in 0..<4 {
                        for x in 0..<4 {
                            let sy = y + dy, sx = (flip ? 3 - x : x) + dx
                            out.append(sy >= 0 && sy < 4 && sx >= 0 && sx < 4 ? Float(image[sy * 4 + sx]) : 0)
                        }
                    }
                    variants[out] = 0
                }
            }
        }
        let values = Self.batchValues(loader, 0)
        for i in 0..<64 {
            let one = Array(values[i * 16 ..< (i + 1) * 16]).map { $0.rounded() }
            #expect(variants[one] != nil, "example \(i): \(one)")
            variants[one, default: 0] += 1
        }
        #expect(variants.values.filter { $0 > 0 }.count >= 8)
    }

    @Test func subset() {
        let d = Dataset.numbered(count: 10).subset(first: 3)
        #expect(d.count == 3 && d.labels == [0, 1, 2] && d.images.count == 3 * 4)
        #expect(Dataset.numbered(count: 2).subset(first: 5).count == 2)
        let last = Dataset.numbered(count: 10).subset(last: 3)
        #expect(last.labels == [7, 8, 9] && last.images == [7, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9])
        #expect(Dataset.numbered(count: 2).subset(last: 5).labels == [0, 1])
    }

    // MARK: Helpers

    /// Labels of a whole epoch, in batch order.
    static func epochLabels(_ loader: BatchLoader) -> [Int32] {
        let images = Tensor(shape: [1])
        var labels: [Int32] = [], all: [Int32] = []
        for b in 0..<loader.batchesPerEpoch {
            loader.loadBatch(b, into: images, labels: &labels)
            all += labels
        }
        return all
    }

    static func batchValues(_ loader: BatchLoader, _ index: Int) -> [Float] {
        let images = Tensor(shape: [1])
        var labels: [Int32] = []
        loader.loadBatch(index, into: images, labels: &labels)
        return images.values
    }

    func expectEqual(_ splits: DataSplits, _ set: IDXSet, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (d, images, labels) in [(splits.train, set.trainImages, set.trainLabels), (splits.test, set.testImages, set.testLabels)] {
            #expect((d.height, d.width, d.channels, d.classes) == (2, 3, 1, 10), sourceLocation: sourceLocation)
            #expect(d.images == images.flatMap { $0 }, sourceLocation: sourceLocation)
            #expect(d.labels == labels.map(Int32.init), sourceLocation: sourceLocation)
        }
    }

    /// Loading `folder` fails with a DataError about `file` (inside it) saying `problem`.
    func expectLoadError(_ folder: ScratchFolder, file: String, says problem: String,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = #expect(throws: DataError.self, sourceLocation: sourceLocation) {
            try DataSource.load(folder: folder.path)
        }
        let path = folder.path + "/" + file
        #expect(error?.file == path, sourceLocation: sourceLocation)
        #expect(error?.description.hasPrefix("\(path): \(problem)") == true,
                "\(error.map(String.init(describing:)) ?? "no error")", sourceLocation: sourceLocation)
    }
}

// MARK: - Fixtures

extension DataTests {
    /// A fresh folder under the system's temporary folder, removed when released. `tag` becomes
    /// part of the path, which is how IDX folders tell Fashion-MNIST from MNIST.
    final class ScratchFolder {
        let path: String

        init(_ tag: String) throws {
            path = FileManager.default.temporaryDirectory.path + "/oicsr-test-\(UUID().uuidString)/\(tag)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }

        func write(_ bytes: [UInt8], to name: String) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + name))
        }

        func writeIDX(_ set: IDXSet, gzip: Bool) throws {
            let files = [
                ("train-images-idx3-ubyte", IDXSet.imagesFile(set.trainImages, height: 2, width: 3)),
                ("train-labels-idx1-ubyte", IDXSet.labelsFile(set.trainLabels)),
                ("t10k-images-idx3-ubyte", IDXSet.imagesFile(set.testImages, height: 2, width: 3)),
                ("t10k-labels-idx1-ubyte", IDXSet.labelsFile(set.testLabels)),
            ]
            for (name, bytes) in files {
                try write(gzip ? Gzip.compress(bytes) : bytes, to: gzip ? name + ".gz" : name)
            }
        }
    }

    /// A tiny IDX data set of 2x3 images.
    struct IDXSet {
        var trainImages: [[UInt8]]
        var trainLabels: [UInt8]
        var testImages: [[UInt8]]
        var testLabels: [UInt8]

        static let tiny = IDXSet(
            trainImages: (0..<5).map { i in (0..<6).map { UInt8(40 * i + 7 * $0) } },
            trainLabels: [0, 1, 2, 9, 3],
            testImages: [[255, 0, 255, 0, 255, 0], [1, 2, 3, 4, 5, 6]],
            testLabels: [4, 5])

        /// An IDX images file (magic 0x00000803, big-endian N, rows, cols).
        static func imagesFile(_ images: [[UInt8]], height: Int, width: Int) -> [UInt8] {
            [0, 0, 8, 3] + bigEndian(images.count) + bigEndian(height) + bigEndian(width) + images.flatMap { $0 }
        }

        /// An IDX labels file (magic 0x00000801, big-endian N).
        static func labelsFile(_ labels: [UInt8]) -> [UInt8] {
            [0, 0, 8, 1] + bigEndian(labels.count) + labels
        }

        static func bigEndian(_ n: Int) -> [UInt8] {
            [UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        }
    }

    /// A CIFAR image with distinct, seed-dependent pixel values.
    enum CIFARImage {
        static func value(seed: Int, channel: Int, pixel: Int) -> UInt8 {
            UInt8((seed * 31 + channel * 101 + pixel * 7) % 256)
        }

        /// As stored in the files: channel planes (CHW).
        static func chw(seed: Int) -> [UInt8] {
            (0..<3).flatMap { c in (0..<1024).map { value(seed: seed, channel: c, pixel: $0) } }
        }

        /// As the engine holds it: HWC.
        static func hwc(seed: Int) -> [UInt8] {
            (0..<1024).flatMap { p in (0..<3).map { value(seed: seed, channel: $0, pixel: p) } }
        }
    }
}

fileprivate extension Dataset {
    static func synthetic(channels: Int, height: Int, width: Int, images: [[UInt8]], labels: [Int32]) -> Dataset {
        Dataset(name: "synthetic", channels: channels, height: height, width: width, classes: 10,
                classNames: (0..<10).map(String.init), images: images.flatMap { $0 }, labels: labels)
    }

    /// `count` 2x2 images, each filled with its index, which is also its label and class.
    static func numbered(count: Int) -> Dataset {
        Dataset(name: "numbered", channels: 1, height: 2, width: 2, classes: count,
                classNames: (0..<count).map(String.init),
                images: (0..<count).flatMap { i in Array(repeating: UInt8(i), count: 4) },
                labels: (0..<count).map(Int32.init))
    }
}

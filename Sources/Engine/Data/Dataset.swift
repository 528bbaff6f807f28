// A labelled image data set held in memory as bytes, exactly as stored on disk (after the
// CHW → HWC transpose for CIFAR). Conversion to floats, normalisation and augmentation
// happen per batch in `BatchLoader`, so a data set costs one byte per pixel.

/// Labelled images, `count` × `height` × `width` × `channels` bytes (NHWC, 0…255).
public struct Dataset: Sendable {
    /// Short name: "fashion-mnist", "mnist", "cifar10", "cifar100", or a user's choice.
    public let name: String
    public let channels, height, width: Int
    /// Number of classes; every label is in `0..<classes`.
    public let classes: Int
    /// One display name per class, `classes` of them.
    public let classNames: [String]
    /// Pixels, N × H × W × C, row-major (NHWC), 0…255.
    public var images: [UInt8]
    /// Class of each image, N values in `0..<classes`.
    public var labels: [Int32]

    /// Number of examples.
    public var count: Int { labels.count }
    /// Bytes (= values) per image: H × W × C.
    public var pixelsPerImage: Int { height * width * channels }

    public init(name: String, channels: Int, height: Int, width: Int, classes: Int,
                classNames: [String], images: [UInt8], labels: [Int32]) {
        precondition(channels > 0 && height > 0 && width > 0 && classes > 0, "empty image or class dimension")
        precondition(classNames.count == classes, "\(classNames.count) class names for \(classes) classes")
        precondition(images.count == labels.count * height * width * channels,
                     "\(images.count) pixel bytes for \(labels.count) images of \(height)x\(width)x\(channels)")
        self.name = name
        self.channels = channels
        self.height = height
        self.width = width
        self.classes = classes
        self.classNames = classNames
        self.images = images
        self.labels = labels
    }

    /// The first `n` examples (all of them if there are fewer), for quick runs.
    public func subset(first n: Int) -> Dataset {
        let kept = max(0, min(n, count))
        var copy = self
        copy.images = Array(images[0 ..< kept * pixelsPerImage])
        copy.labels = Array(labels[0 ..< kept])
        return copy
    }

    /// The last `n` examples (all of them if there are fewer): held out from a model trained
    /// on a prefix of the data.
    public func subset(last n: Int) -> Dataset {
        let kept = max(0, min(n, count))
        var copy = self
        copy.images = Array(images[(count - kept) * pixelsPerImage ..< count * pixelsPerImage])
        copy.labels = Array(labels[(count - kept)...])
        return copy
    }
}

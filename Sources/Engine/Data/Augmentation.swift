/// Training-time augmentation, as torchvision's RandomCrop(size, padding) followed by
/// RandomHorizontalFlip.
public struct Augmentation: Sendable, Equatable {
    /// Random crop: pad every side with `padCrop` black pixels (raw value 0, as torchvision
    /// pads before normalising), then cut an H×W window at a uniform offset. 0 = off.
    public var padCrop: Int
    /// Mirror left–right with probability 1/2.
    public var horizontalFlip: Bool

    public init(padCrop: Int, horizontalFlip: Bool) {
        precondition(padCrop >= 0, "negative crop padding \(padCrop)")
        self.padCrop = padCrop
        self.horizontalFlip = horizontalFlip
    }

    public static let none = Augmentation(padCrop: 0, horizontalFlip: false)
    /// The usual CIFAR recipe (He et al. 2016, §4.2): 4-pixel padding, random crop, flip.
    public static let cifar = Augmentation(padCrop: 4, horizontalFlip: true)

    /// What training on `data` uses: the CIFAR recipe for CIFAR sets, nothing otherwise.
    public static func standard(for data: Dataset) -> Augmentation {
        data.name.hasPrefix("cifar") ? .cifar : .none
    }

    var isNone: Bool { padCrop == 0 && !horizontalFlip }
}

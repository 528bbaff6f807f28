import Foundation

/// The on-disk formats `DataSource` reads.
public enum DataFormat: String, Sendable, CaseIterable {
    case idx, cifar10, cifar100

    /// The files a folder of this format must hold (IDX files may also end in `.gz`).
    public var expectedFiles: [String] {
        switch self {
        case .idx: IDXRole.allCases.map(\.fileName)
        case .cifar10: (1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin"]
        case .cifar100: ["train.bin", "test.bin"]
        }
    }

    var displayName: String {
        switch self {
        case .idx: "IDX (MNIST / Fashion-MNIST)"
        case .cifar10: "CIFAR-10 binary"
        case .cifar100: "CIFAR-100 binary"
        }
    }
}

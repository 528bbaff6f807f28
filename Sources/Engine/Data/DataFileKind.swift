import Foundation

/// The kinds of data file, for `DataSource.parseFile`.
public enum DataFileKind: String, Sendable, CaseIterable {
    case idxImages, idxLabels, cifar10, cifar100
}

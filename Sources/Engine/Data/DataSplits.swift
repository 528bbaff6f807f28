/// The training and test parts of a data set; they share image size and classes.
public struct DataSplits: Sendable {
    public let train: Dataset
    public let test: Dataset

    public init(train: Dataset, test: Dataset) {
        self.train = train
        self.test = test
    }
}

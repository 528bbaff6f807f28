import Foundation

// Finding and loading a data set folder. The format is recognised by the file names the
// original distributions use, so pointing at the unpacked download is enough:
//   IDX (MNIST, Fashion-MNIST): train-images-idx3-ubyte, train-labels-idx1-ubyte,
//       t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally gzip'd (.gz);
//   CIFAR-10 binary:  data_batch_1.bin … data_batch_5.bin, test_batch.bin;
//   CIFAR-100 binary: train.bin, test.bin.
// The CIFAR archives unpack into cifar-10-batches-bin/ and cifar-100-binary/; a folder that
// holds only that subfolder is accepted too.

public enum DataSource {
    /// The largest data file accepted, 4 GiB, compressed or decompressed (Fashion-MNIST's
    /// largest is 47 MB, a CIFAR-10 batch 30 MB). A larger file, or a gzip'd one that
    /// declares or inflates to more, is refused before it is read or inflated further.
    public static let maximumFileBytes = 1 << 32

    /// Environment variable naming the data folder.
    public static let environmentVariable = "OICSR_DATA"
    /// Where the Debian package `dataset-fashion-mnist` installs its files.
    public static let debianFashionMNIST = "/usr/share/datasets/fashion-mnist"

    /// The default folder: `$OICSR_DATA` if set and not empty, else Debian's Fashion-MNIST.
    public static func defaultFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let folder = environment[environmentVariable], !folder.isEmpty { return folder }
        return debianFashionMNIST
    }

    /// The format of the data set in `folder`, recognised by its file names.
    public static func detectFormat(folder: String) throws -> DataFormat {
        try locate(folder: folder).format
    }

    /// Loads the training and test sets from `folder`, whatever its format.
    /// `name` overrides the data set name derived from the format and path.
    public static func load(folder: String, name: String? = nil) throws -> DataSplits {
        // A file rather than a folder: a data set exported as one safetensors file.
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), !isFolder.boolValue {
            return try TensorDataFile.load(path: folder, name: name)
        }
        let (format, folder) = try locate(folder: folder)
        switch format {
        case .idx: return try loadIDX(folder: folder, name: name)
        case .cifar10, .cifar100: return try loadCIFAR(folder: folder, format: format, name: name)
        }
    }

    // MARK: Locating

    private static func locate(folder: String) throws -> (format: DataFormat, folder: String) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw DataError(file: folder, problem: "no such folder; \(expectation) (set \(environmentVariable) to use another folder)")
        }
        guard isFolder.boolValue else {
            throw DataError(file: folder, problem: "not a folder; \(expectation)")
        }
        if let format = recognise(folder) { return (format, folder) }
        for sub in ["cifar-10-batches-bin", "cifar-100-binary"] {
            let inner = (folder as NSString).appendingPathComponent(sub)
            if let format = recognise(inner) { return (format, inner) }
        }
        throw DataError(file: folder, problem: "no data set found; \(expectation)")
    }

    /// The format whose files (any of them) are present; a missing file of a recognised
    /// format is reported when loading, naming that file.
    private static func recognise(_ folder: String) -> DataFormat? {
        if IDXRole.allCases.contains(where: { findIDX($0, in: folder) != nil }) { return .idx }
        let exists = { (name: String) in FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(name)) }
        if exists("data_batch_1.bin") || exists("test_batch.bin") { return .cifar10 }
        if exists("train.bin") || exists("test.bin") { return .cifar100 }
        return nil
    }

    private static var expectation: String {
        "expected one of: " + DataFormat.allCases.map { format in
            "\(format.displayName): \(format.expectedFiles.joined(separator: ", "))"
        }.joined(separator: "; ") + " (IDX files may be gzip'd, ending in .gz); or a .safetensors data file from 'python3 -m oicsr_torch export-data'"
    }

    // MARK: IDX

    private static func findIDX(_ role: IDXRole, in folder: String) -> String? {
        role.candidates
            .map { (folder as NSString).appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0) }
    }

    private static func requireIDX(_ role: IDXRole, in folder: String) throws -> String {
        if let path = findIDX(role, in: folder) { return path }
        throw DataError(file: (folder as NSString).appendingPathComponent(role.fileName + "[.gz]"),
                        problem: "missing file; an IDX data set needs \(DataFormat.idx.expectedFiles.joined(separator: ", ")), each optionally gzip'd (.gz)")
    }

    static let fashionMNISTClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    private static func loadIDX(folder: String, name: String?) throws -> DataSplits {
        // Fashion-MNIST and MNIST share file names and format; only the path tells them apart.
        let fashion = folder.lowercased().contains("fashion")
        let classNames = fashion ? fashionMNISTClassNames : (0..<10).map(String.init)
        let setName = name ?? (fashion ? "fashion-mnist" : "mnist")

        func split(_ imagesRole: IDXRole, _ labelsRole: IDXRole) throws -> Dataset {
            let imagesPath = try requireIDX(imagesRole, in: folder)
            let labelsPath = try requireIDX(labelsRole, in: folder)
            let images = try IDX.images(Gzip.contents(ofFile: imagesPath, maximumBytes: maximumFileBytes,
                                                      declaredSize: IDX.declaredImagesSize(path: imagesPath)), path: imagesPath)
            let labels = try IDX.labels(Gzip.contents(ofFile: labelsPath, maximumBytes: maximumFileBytes,
                                                      declaredSize: IDX.declaredLabelsSize(path: labelsPath)),
                                        classes: classNames.count, path: labelsPath)
            guard labels.count == images.count else {
                throw DataError(file: labelsPath, problem: "\(labels.count) labels for \(images.count) images in \(imagesPath)")
            }
            return Dataset(name: setName, channels: 1, height: images.height, width: images.width,
                           classes: classNames.count, classNames: classNames,
                           images: images.pixels, labels: labels)
        }

        let train = try split(.trainImages, .trainLabels)
        let test = try split(.testImages, .testLabels)
        guard test.height == train.height, test.width == train.width else {
            throw DataError(file: try requireIDX(.testImages, in: folder),
                            problem: "test images are \(test.height)x\(test.width) but training images are \(train.height)x\(train.width)")
        }
        return DataSplits(train: train, test: test)
    }

    // MARK: CIFAR

    static let cifar10ClassNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]

    private static func loadCIFAR(folder: String, format: DataFormat, name: String?) throws -> DataSplits {
        let variant: CIFAR.Variant = format == .cifar10 ? .cifar10 : .cifar100
        let trainFiles = format == .cifar10 ? (1...5).map { "data_batch_\($0).bin" } : ["train.bin"]
        let testFiles = format == .cifar10 ? ["test_batch.bin"] : ["test.bin"]
        let classNames = format == .cifar10 ? cifar10ClassNames : cifar100ClassNames(folder: folder)

        func split(_ files: [String]) throws -> Dataset {
            var labels = [Int32](), pixels = [UInt8]()
            for file in files {
                let path = (folder as NSString).appendingPathComponent(file)
                guard FileManager.default.fileExists(atPath: path) else {
                    throw DataError(file: path, problem: "missing file; a \(format.displayName) data set needs \(format.expectedFiles.joined(separator: ", "))")
                }
                let records = try CIFAR.records(Gzip.contents(ofFile: path, maximumBytes: maximumFileBytes), variant: variant, path: path)
                labels.append(contentsOf: records.labels)
                pixels.append(contentsOf: records.pixels)
            }
            return Dataset(name: name ?? format.rawValue, channels: CIFAR.channels, height: CIFAR.side,
                           width: CIFAR.side, classes: variant.classes, classNames: classNames,
                           images: pixels, labels: labels)
        }
        return DataSplits(train: try split(trainFiles), test: try split(testFiles))
    }

    /// CIFAR-100's fine class names from `fine_label_names.txt` (shipped with some copies; a
    /// regular file of at most 64 KiB), else the class numbers.
    private static func cifar100ClassNames(folder: String) -> [String] {
        let path = (folder as NSString).appendingPathComponent("fine_label_names.txt")
        if let bytes = try? AtomicFile.read(path: path, maximumBytes: 1 << 16),
           let text = String(validating: bytes, as: UTF8.self) {
            let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if names.count == 100 { return names }
        }
        return (0..<100).map(String.init)
    }
}

// MARK: Single files

extension DataSource {
    /// Parses the bytes of one data file of `kind`, gzip'd or not, with every check that
    /// loading it from a folder makes, and returns the number of examples it holds. `path`
    /// only names the file in errors. For fuzzing and for checking a file on its own.
    public static func parseFile(_ bytes: [UInt8], kind: DataFileKind, path: String) throws -> Int {
        switch kind {
        case .idxImages:
            let content = try Gzip.contents(of: bytes, path: path, maximumBytes: maximumFileBytes,
                                            declaredSize: IDX.declaredImagesSize(path: path))
            return try IDX.images(content, path: path).count
        case .idxLabels:
            let content = try Gzip.contents(of: bytes, path: path, maximumBytes: maximumFileBytes,
                                            declaredSize: IDX.declaredLabelsSize(path: path))
            return try IDX.labels(content, classes: 10, path: path).count
        case .cifar10, .cifar100:
            let content = try Gzip.contents(of: bytes, path: path, maximumBytes: maximumFileBytes)
            return try CIFAR.records(content, variant: kind == .cifar10 ? .cifar10 : .cifar100, path: path).labels.count
        }
    }
}

/// The four files of an IDX data set.
enum IDXRole: CaseIterable {
    case trainImages, trainLabels, testImages, testLabels

    var fileName: String {
        switch self {
        case .trainImages: "train-images-idx3-ubyte"
        case .trainLabels: "train-labels-idx1-ubyte"
        case .testImages: "t10k-images-idx3-ubyte"
        case .testLabels: "t10k-labels-idx1-ubyte"
        }
    }

    /// Names in use: LeCun's, gzip'd or not, and the dotted variant of some mirrors.
    var candidates: [String] {
        let dotted = fileName.replacingOccurrences(of: "-idx", with: ".idx")
        return [fileName + ".gz", fileName, dotted + ".gz", dotted]
    }
}

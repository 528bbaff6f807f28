// A data set in one safetensors file, as the PyTorch bridge exports it
// (`python3 -m oicsr_torch export-data`): images already resized and cropped to the model's
// input, so a user's own data can evaluate, repair and fine-tune a model here.
//
//   train.images  U8  (N, H, W, C)  pixels 0…255, NHWC
//   train.labels  I64 (N)           classes 0…K−1
//   test.images, test.labels        the same for the test split
//   __metadata__  oicsr.dataset (a name), oicsr.class_names (JSON list of K names)

import Foundation

public enum TensorDataFile {
    /// Loads both splits from `path`; every size and value is checked and named on error.
    public static func load(path: String, name: String? = nil) throws -> DataSplits {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile.read(path: path)
        } catch let error as CheckpointError {
            throw DataError(file: path, problem: error.problem)
        }
        func fail(_ problem: String) -> DataError { DataError(file: path, problem: problem) }
        guard let namesText = file.metadata["oicsr.class_names"],
              let classNames = try? JSONDecoder().decode([String].self, from: Data(namesText.utf8)), classNames.count >= 2 else {
            throw fail("not an oicsr data file: metadata 'oicsr.class_names' (a JSON list of at least two class names) is missing")
        }
        let dataset = name ?? file.metadata["oicsr.dataset"] ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent

        func split(_ prefix: String) throws -> Dataset {
            guard let images = file[prefix + ".images"], let labels = file[prefix + ".labels"] else {
                throw fail("not an oicsr data file: tensors '\(prefix).images' and '\(prefix).labels' are needed")
            }
            guard images.shape.count == 4, images.shape.allSatisfy({ $0 > 0 }), labels.shape == [images.shape[0]] else {
                throw fail("'\(prefix).images' must be (N, H, W, C) and '\(prefix).labels' (N); found \(images.shape) and \(labels.shape)")
            }
            var pixels = [UInt8](repeating: 0, count: images.values.count)
            for (i, value) in images.values.enumerated() {
                guard value >= 0, value <= 255, value == value.rounded() else {
                    throw fail("'\(prefix).images' holds \(value) at element \(i); pixels are whole numbers from 0 to 255 (U8)")
                }
                pixels[i] = UInt8(value)
            }
            var classes: [Int32] = []
            classes.reserveCapacity(labels.values.count)
            for (i, value) in labels.values.enumerated() {
                guard value >= 0, Int(exactly: value).map({ $0 < classNames.count }) == true else {
                    throw fail("'\(prefix).labels' holds \(value) at example \(i); labels are classes 0 to \(classNames.count - 1)")
                }
                classes.append(Int32(value))
            }
            return Dataset(name: dataset, channels: images.shape[3], height: images.shape[1], width: images.shape[2],
                           classes: classNames.count, classNames: classNames, images: pixels, labels: classes)
        }
        let train = try split("train"), test = try split("test")
        guard [train.channels, train.height, train.width] == [test.channels, test.height, test.width] else {
            throw fail("the training images are \(train.height)x\(train.width)x\(train.channels), the test images \(test.height)x\(test.width)x\(test.channels)")
        }
        return DataSplits(train: train, test: test)
    }
}

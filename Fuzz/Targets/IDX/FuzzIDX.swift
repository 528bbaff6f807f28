// Fuzz target: an IDX data file, raw or gzip'd, as images and as labels (the same bytes
// both ways: the magic number sends most inputs down one path).
//
// scripts/fuzz.sh builds it with libFuzzer; a plain build replays files (FuzzDriver).

import Engine
import FuzzDriver

@main
enum Main {
    static func main() throws {
        try FuzzDriver.run { bytes in
            _ = try? DataSource.parseFile(bytes, kind: .idxImages, path: "fuzz-images-idx3-ubyte")
            _ = try? DataSource.parseFile(bytes, kind: .idxLabels, path: "fuzz-labels-idx1-ubyte")
        }
    }
}

// Fuzz target: a CIFAR-10 and a CIFAR-100 binary file, raw or gzip'd.
//
// scripts/fuzz.sh builds it with libFuzzer; a plain build replays files (FuzzDriver).

import Engine
import FuzzDriver

@main
enum Main {
    static func main() throws {
        try FuzzDriver.run { bytes in
            _ = try? DataSource.parseFile(bytes, kind: .cifar10, path: "fuzz_batch.bin")
            _ = try? DataSource.parseFile(bytes, kind: .cifar100, path: "fuzz.bin")
        }
    }
}

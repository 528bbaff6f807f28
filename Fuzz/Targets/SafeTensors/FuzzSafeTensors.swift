// Fuzz target: a safetensors file (header, offsets, dtypes), then the checkpoint's metadata and
// tensors against its architecture (Checkpoint.model(from:path:), which resolves the
// architecture's graph and cost and builds the model).
//
// scripts/fuzz.sh builds it with libFuzzer; a plain build replays files (FuzzDriver).

import Engine
import FuzzDriver

@main
enum Main {
    static func main() throws {
        try FuzzDriver.run { bytes in
            guard let file = try? SafeTensorsFile.decode(bytes, path: "fuzz.safetensors") else { return }
            _ = try? Checkpoint.model(from: file, path: "fuzz.safetensors")
        }
    }
}

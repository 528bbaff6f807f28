// Fuzz target: an architecture JSON document, parsed, checked and resolved into its graph
// (Architecture.parseResolving: shapes, wiring and cost), as every command that reads one does.
//
// scripts/fuzz.sh builds it with libFuzzer; a plain build replays files (FuzzDriver).

import Engine
import Foundation
import FuzzDriver

@main
enum Main {
    static func main() throws {
        try FuzzDriver.run { bytes in
            _ = try? Architecture.parseResolving(Data(bytes), source: "fuzz.json")
        }
    }
}

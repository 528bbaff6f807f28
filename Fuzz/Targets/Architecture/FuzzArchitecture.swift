// Fuzz target: an architecture JSON document, parsed, checked and resolved into its graph
// (Architecture.parseResolving: shapes, wiring and cost), as every command that reads one does.
//
// Built with libFuzzer and the address sanitizer by scripts/fuzz.sh (-D FUZZING): main hands
// control to libFuzzer, which calls `parse` for every input it makes. A plain build is a
// replay tool instead: it runs `parse` on the files it is given, e.g. one under Fuzz/findings/.

import Engine
import Foundation
#if FUZZING
import CFuzzer
#endif

/// Parses `bytes`; errors are the expected outcome for most inputs and are dropped. Only a
/// crash, a sanitizer report or an allocation above the fuzzer's limit is a finding.
func parse(_ bytes: [UInt8]) {
    _ = try? Architecture.parseResolving(Data(bytes), source: "fuzz.json")
}

#if FUZZING
/// The callback libFuzzer's runtime requires by this name (its own main refers to it).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    parse(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#endif

@main
enum Main {
    #if FUZZING
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) })
    }
    #else
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            print("\(path): no crash")
        }
    }
    #endif
}

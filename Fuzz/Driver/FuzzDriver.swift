// The main of every fuzz target. Built with libFuzzer and the address sanitizer by
// scripts/fuzz.sh (-D FUZZING), it hands control to libFuzzer, which calls the target's parse
// function for every input it makes. A plain build is a replay tool instead: it runs the parse
// function on the files it is given, e.g. one under Fuzz/findings/.

import Foundation
#if FUZZING
import CFuzzer
#endif

public enum FuzzDriver {
    /// The target's parse function. libFuzzer calls back through a C function pointer, which
    /// cannot capture it, so it is kept here; set once, before libFuzzer starts.
    nonisolated(unsafe) static var parse: ([UInt8]) -> Void = { _ in }

    /// Runs `parse` on libFuzzer's inputs (fuzzing builds) or on the files named on the
    /// command line. `parse` drops the errors most inputs give: only a crash, a sanitizer
    /// report or an allocation above the fuzzer's limit is a finding.
    public static func run(_ parse: @escaping ([UInt8]) -> Void) throws {
        Self.parse = parse
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) })
        #else
        for path in CommandLine.arguments.dropFirst() {
            parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            print("\(path): no crash")
        }
        #endif
    }
}

#if FUZZING
/// The callback libFuzzer's runtime requires by this name (its own main refers to it).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.parse(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#endif

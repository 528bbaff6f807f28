// Golden-file assertions for rendered grids. A snapshot is `Grid.styledLines` (text plus
// role codes) stored in Tests/ExplorerTests/__Snapshots__/<name>.txt, found from this file's
// path so the tests read and write the source tree, not a bundle.
//
// Re-record deliberately, after checking that the new screen is right:
//     OICSR_RECORD_SNAPSHOTS=1 swift test --filter ExplorerTests
// then review the diff of __Snapshots__ like any other change.

import Canvas
import Explorer
import Foundation
import Testing

/// The folder holding the golden files.
let snapshotDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .appendingPathComponent("__Snapshots__")

/// Whether this run rewrites golden files instead of comparing with them.
var isRecordingSnapshots: Bool {
    ProcessInfo.processInfo.environment["OICSR_RECORD_SNAPSHOTS"] == "1"
}

/// Compares `grid.styledLines` with the golden file `name`.txt. When recording, (re)writes
/// the file and fails the test all the same, so a run with the record switch left on can
/// never pass. A missing file, or a different screen, fails the test with the line numbers
/// and both versions of every line that differs.
func assertSnapshot(_ grid: Grid, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let actual = grid.styledLines.joined(separator: "\n") + "\n"
    let file = snapshotDirectory.appendingPathComponent(name + ".txt")

    if isRecordingSnapshots {
        do {
            try FileManager.default.createDirectory(at: snapshotDirectory, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: file, options: .atomic)
            Issue.record("Recorded snapshot \(file.path); check it, then run again without OICSR_RECORD_SNAPSHOTS",
                         sourceLocation: sourceLocation)
        } catch {
            Issue.record("Cannot write snapshot \(file.path): \(error)", sourceLocation: sourceLocation)
        }
        return
    }

    guard let data = FileManager.default.contents(atPath: file.path) else {
        Issue.record("""
            No snapshot \(name) at \(file.path).
            Record it with OICSR_RECORD_SNAPSHOTS=1 swift test --filter ExplorerTests, \
            then check the file.
            """, sourceLocation: sourceLocation)
        return
    }
    let expected = String(decoding: data, as: UTF8.self)
    guard expected != actual else { return }
    Issue.record("""
        Snapshot \(name) differs (\(file.path)); lines as expected (-) and as rendered (+):
        \(lineDiff(expected: expected, actual: actual))
        Re-record with OICSR_RECORD_SNAPSHOTS=1 if the new screen is right.
        """, sourceLocation: sourceLocation)
}

/// A line-by-line comparison of two texts: every line number where they differ, with the
/// expected line after "-" and the actual one after "+" (a missing line shows as absent).
func lineDiff(expected: String, actual: String) -> String {
    let old = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let new = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var report: [String] = []
    for index in 0..<max(old.count, new.count) {
        let before = index < old.count ? String(old[index]) : nil
        let after = index < new.count ? String(new[index]) : nil
        guard before != after else { continue }
        report.append("line \(index + 1):")
        report.append("  - " + (before.map { "|\($0)|" } ?? "(absent)"))
        report.append("  + " + (after.map { "|\($0)|" } ?? "(absent)"))
    }
    return report.joined(separator: "\n")
}

/// Whether a line shows a word cut short with "…" (a letter right before it): the screens
/// leave out whole parts instead. "10…90%" (a range) and "ETA      …" (no estimate yet) are
/// not cut words.
func hasCutWord(_ lines: [String]) -> Bool {
    lines.contains { line in
        var previous: Character = " "
        for character in line {
            if character == "…", previous.isLetter { return true }
            previous = character
        }
        return false
    }
}

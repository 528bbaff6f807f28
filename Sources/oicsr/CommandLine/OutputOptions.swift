import Engine
import Foundation

/// `--out FILE` and `--force`: where a command writes, checked before any work so a long run
/// never ends on a file it may not replace.
struct OutputOptions {
    static let force = Flag(name: "force", help: "replace --out if it exists (a regular file only)")

    let path: String
    let force: Bool

    /// Validates `path` (from `option`): not the source model, not an existing file unless
    /// `--force`, never something other than a regular file.
    init(path: String, option: String, force: Bool, source: String? = nil, existsHint: String = "pass --force to replace it") throws(UsageError) {
        self.path = path
        self.force = force
        if let source, Self.samePath(path, source) {
            throw UsageError(argument: "--\(option)", problem: "\(path) is the source model; write to another file")
        }
        // Devices, FIFOs, folders and links to them are never replaced, --force or not.
        do {
            try AtomicFile.checkReplaceable(path: path)
        } catch let error as FileIOError {
            throw UsageError(argument: "--\(option)", problem: error.description)
        } catch {
            throw UsageError(argument: "--\(option)", problem: "\(path): \(error)")
        }
        if FileManager.default.fileExists(atPath: path) && !force {
            throw UsageError(argument: "--\(option)", problem: "\(path) exists; \(existsHint)")
        }
    }

    static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath() == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath()
    }
}

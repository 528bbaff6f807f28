import Dispatch
import Foundation
import Synchronization

/// Ctrl-C and SIGTERM during long work: the first one asks the work to stop at the next
/// safe point (between batches), so checkpoints stay whole; a second one exits at once.
enum Interruption {
    private static let requested = Atomic<Bool>(false)
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static var isRequested: Bool { requested.load(ordering: .relaxed) }

    static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if requested.exchange(true, ordering: .relaxed) { exit(128 + signalNumber) }
            }
            source.resume()
            sources.append(source)
        }
    }
}

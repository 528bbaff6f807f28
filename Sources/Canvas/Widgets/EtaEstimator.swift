/// The time left of a job, from its progress reports. The first report marks the start:
/// what came before it (loading a model, warming up the kernels, the first batch) says
/// nothing about the pace of the rest, and counting it made the first estimates far too
/// long. After that, the pace is the share done per second since the first report; no
/// estimate is given before 2% more of the job and half a second have passed.
public struct EtaEstimator: Equatable, Sendable {
    private var start: (share: Double, seconds: Double)?
    private var latest: (share: Double, seconds: Double)?

    public init() {}

    public static func == (a: EtaEstimator, b: EtaEstimator) -> Bool {
        a.start?.share == b.start?.share && a.start?.seconds == b.start?.seconds
            && a.latest?.share == b.latest?.share && a.latest?.seconds == b.latest?.seconds
    }

    /// Takes a report: `share` of the job done after `elapsedSeconds`.
    public mutating func add(share: Double, elapsedSeconds: Double) {
        guard share.isFinite, elapsedSeconds.isFinite else { return }
        if let first = start, share < first.share { start = nil }  // a job that starts over
        if start == nil { start = (share, elapsedSeconds) }
        latest = (share, elapsedSeconds)
    }

    /// Seconds left, or nil while there is too little to go on.
    public var secondsLeft: Double? {
        guard let start, let latest else { return nil }
        let done = latest.share - start.share, seconds = latest.seconds - start.seconds
        guard done >= 0.02, seconds >= 0.5 else { return nil }
        return max(0, 1 - latest.share) * seconds / done
    }
}

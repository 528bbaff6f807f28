import Testing
@testable import Engine

@Suite("Benchmark measurements")
struct BenchmarkTests {
    /// Bodies measured together run in turns, one call of each per round after a warm-up call
    /// of each, so every body sees the same stretches of the machine's pace; each gets its own
    /// best time, in the order given.
    @Test func alternatingBodiesTakeTurns() {
        var calls: [Int] = []
        let times = Benchmark.best(seconds: 0, minimumRuns: 3,
                                   alternating: [{ calls.append(0) }, { calls.append(1) }, { calls.append(2) }])
        #expect(calls == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
        #expect(times.count == 3 && times.allSatisfy { $0 >= 0 && $0.isFinite })
        // One body alone: a warm-up call, then the measured ones.
        var single = 0
        _ = Benchmark.best(seconds: 0, minimumRuns: 4) { single += 1 }
        #expect(single == 5)
    }
}

import Testing
import TestSupport
@testable import Engine

// Behaviour of the random layers (seeded masks, training against evaluation) and values of
// concatenation and gating, checked by hand.

@Suite("Dropout, stochastic depth, concatenation and gating")
struct LayerKindTests {
    @Test func dropoutMask() {
        let op = DropoutOp(input: .vector(1000), p: 0.3, seed: 42)
        let x = Tensor(shape: [20, 1000]), y = Tensor(shape: [20, 1000])
        x.fill(2)
        op.forward([x], y, batch: 20, training: true)
        // Inverted dropout: kept units are scaled by 1/(1 − p), the rest are 0.
        let kept = y.values.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 2 / 0.7) < 1e-6 })
        let dropped = Double(y.count - kept.count) / Double(y.count)
        #expect(abs(dropped - 0.3) < 0.015, "dropped share \(dropped)")
        // The backward pass uses the same mask: the gradient flows exactly where y is nonzero.
        let dy = Tensor(shape: [20, 1000]), dx = Tensor(shape: [20, 1000])
        dy.fill(1)
        op.backward([x], y, dy, [dx], batch: 20)
        #expect((0..<y.count).allSatisfy { dx[$0] == y[$0] / 2 })
    }

    @Test func dropoutIsSeededAndAdvances() {
        let x = Fixtures.random([4, 50], seed: 1)
        func masks(_ op: DropoutOp, evaluateBetween: Bool) -> [[Float]] {
            let y = Tensor(shape: [4, 50])
            op.forward([x], y, batch: 4, training: true)
            let first = y.values
            if evaluateBetween {
                op.forward([x], y, batch: 4, training: false)
                #expect(y.values == x.values, "evaluation is the identity")
            }
            op.forward([x], y, batch: 4, training: true)
            return [first, y.values]
        }
        let a = masks(DropoutOp(input: .vector(50), p: 0.5, seed: 7), evaluateBetween: false)
        let b = masks(DropoutOp(input: .vector(50), p: 0.5, seed: 7), evaluateBetween: true)
        let c = masks(DropoutOp(input: .vector(50), p: 0.5, seed: 8), evaluateBetween: false)
        #expect(a == b, "same seed, same masks; evaluation draws nothing")
        #expect(a[0] != a[1], "each training pass draws a new mask")
        #expect(a[0] != c[0], "another seed, another mask")
    }

    @Test func zeroProbabilityIsTheIdentity() {
        let x = Fixtures.random([3, 2, 2, 4], seed: 2), y = Tensor(shape: [3, 2, 2, 4])
        DropoutOp(input: .map(2, 2, 4), p: 0, seed: 1).forward([x], y, batch: 3, training: true)
        #expect(y.values == x.values)
        StochasticDepthOp(input: .map(2, 2, 4), p: 0, seed: 1).forward([x], y, batch: 3, training: true)
        #expect(y.values == x.values)
    }

    /// torchvision's mode "row": one draw per example, which keeps or drops the whole map.
    @Test func stochasticDepthDropsWholeExamples() {
        let op = StochasticDepthOp(input: .map(2, 3, 4), p: 0.25, seed: 3)
        let batch = 400, per = 24
        let x = Tensor(shape: [batch, 2, 3, 4]), y = Tensor(shape: [batch, 2, 3, 4])
        x.fill(1)
        op.forward([x], y, batch: batch, training: true)
        var dropped = 0
        for n in 0..<batch {
            let example = Array(y.values[(n * per)..<((n + 1) * per)])
            if example.allSatisfy({ $0 == 0 }) {
                dropped += 1
            } else {
                #expect(example.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 }, "example \(n) partly dropped: \(example)")
            }
        }
        #expect(abs(Double(dropped) / Double(batch) - 0.25) < 0.07, "dropped \(dropped) of \(batch)")
        let dy = Tensor(shape: y.shape), dx = Tensor(shape: y.shape)
        dy.fill(3)
        op.backward([x], y, dy, [dx], batch: batch)
        #expect((0..<y.count).allSatisfy { dx[$0] == 3 * y[$0] })
    }

    /// torch.cat((a, b), 1) on NCHW is, channel-last, the channels of a then b at every pixel;
    /// the backward pass adds each input's slice onto what its gradient already holds.
    @Test func concatValues() {
        let a = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]), b = Tensor(shape: [1, 1, 2, 1], values: [10, 20])
        let op = ConcatOp(inputs: [.map(1, 2, 2), .map(1, 2, 1)])
        let y = Tensor(shape: [1, 1, 2, 3])
        op.forward([a, b], y, batch: 1, training: true)
        #expect(y.values == [1, 2, 10, 3, 4, 20])
        let dy = Tensor(shape: [1, 1, 2, 3], values: [1, 2, 3, 4, 5, 6])
        let da = Tensor(shape: [1, 1, 2, 2], values: [100, 100, 100, 100])
        op.backward([a, b], y, dy, [da, nil], batch: 1)
        #expect(da.values == [101, 102, 104, 105])
    }

    /// Squeeze-excitation's x · s with s of shape (N, C, 1, 1): every pixel of channel c times s[n, c].
    @Test func gateValues() {
        let x = Tensor(shape: [2, 1, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
        let gate = Tensor(shape: [2, 1, 1, 2], values: [10, 100, -1, 0.5])
        let op = MulOp(input: .map(1, 2, 2), gate: .map(1, 1, 2))
        let y = Tensor(shape: [2, 1, 2, 2])
        op.forward([x, gate], y, batch: 2, training: true)
        #expect(y.values == [10, 200, 30, 400, -5, 3, -7, 4])
        let dy = Tensor(shape: [2, 1, 2, 2]), dx = Tensor(shape: x.shape), dgate = Tensor(shape: gate.shape)
        dy.fill(1)
        op.backward([x, gate], y, dy, [dx, dgate], batch: 2)
        #expect(dx.values == [10, 100, 10, 100, -1, 0.5, -1, 0.5])
        #expect(dgate.values == [4, 6, 12, 14])
    }
}

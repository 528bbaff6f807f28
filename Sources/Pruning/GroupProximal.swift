import Engine

// The proximal operator of a sum of group norms, prox(v) = argmin_x ½‖x − v‖² + Σ_k τ_k‖x_k‖₂,
// for groups that may overlap. OICSR's out-in groups do: weight W_c[o, i] of a consumer is in
// the in part of channel i and in the out part of the consumer's own channel o.
//
// For disjoint groups the operator is block soft-thresholding, x_k = v_k·max(0, 1 − τ_k/‖v_k‖).
// For overlapping ones there is no closed form; multiplying every weight by all its groups'
// factors computed at v is only an approximation. Here the operator is computed through its
// dual (Jenatton et al., "Proximal methods for hierarchical sparse coding", JMLR 2011, §3;
// Yuan, Liu & Ye, "Efficient methods for overlapping group lasso", NIPS 2011):
//
//     x = v − Σ_k ξ_k,   ξ = argmin_{‖ξ_k‖ ≤ τ_k} ½‖v − Σ_k ξ_k‖²,   ξ_k supported on group k,
//
// solved by block coordinate descent: each block update projects v − Σ_{j≠k} ξ_j (on group k)
// onto the ball of radius τ_k. The dual objective is a smooth convex quadratic over a product
// of balls, so the sweeps converge to its minimum and x to the exact operator. A group ends at
// exactly zero when its residual lies inside its ball, as with soft-thresholding.

/// Members of every (group, channel) as flat element indices into a list of parameters, with
/// the operator's working arrays kept between calls (no allocation per step).
final class GroupProximal {
    /// The parameters some group touches, laid end to end from `offsets[p]`.
    private let parameters: [Parameter]
    private let offsets: [Int]
    /// Block k's members are the elements `members[m]` for m in `starts[k]..<starts[k+1]`.
    private let members: [Int32]
    private let starts: [Int]
    /// τ_k per unit of step size: λ (or λ√|g| when scaled by size).
    let weights: [Double]
    /// True when some element belongs to two blocks; disjoint blocks need one sweep.
    let overlaps: Bool
    private var v: [Double]
    private var sums: [Double]
    private var duals: [Double]

    /// The sweeps of the last call, and the largest change of a dual block in its last sweep
    /// relative to its radius.
    private(set) var lastSweeps = 0
    private(set) var lastChange = 0.0

    /// `blocks`: per block, its segments and channel; `weight`: τ_k per unit step.
    init(blocks: [(segments: [Segment], channel: Int, weight: Double)]) {
        var index: [ObjectIdentifier: Int] = [:]
        var parameters: [Parameter] = [], offsets: [Int] = []
        var total = 0
        var members: [Int32] = [], starts = [0]
        for block in blocks {
            for segment in block.segments {
                let id = ObjectIdentifier(segment.parameter)
                let p: Int
                if let known = index[id] { p = known } else {
                    p = parameters.count
                    index[id] = p
                    parameters.append(segment.parameter)
                    offsets.append(total)
                    total += segment.parameter.value.count
                }
                segment.forEachIndex(channel: block.channel) { members.append(Int32(offsets[p] + $0)) }
            }
            starts.append(members.count)
        }
        self.parameters = parameters
        self.offsets = offsets
        self.members = members
        self.starts = starts
        self.weights = blocks.map(\.weight)
        var seen = [UInt8](repeating: 0, count: total)
        var overlaps = false
        for m in members {
            if seen[Int(m)] > 0 { overlaps = true }
            seen[Int(m)] = 1
        }
        self.overlaps = overlaps
        v = [Double](repeating: 0, count: total)
        sums = v
        duals = [Double](repeating: 0, count: members.count)
    }

    /// Replaces the parameters x by prox(x) with τ_k = `step`·weight_k. Stops when no dual
    /// block moves by more than `tolerance`·τ_k in a sweep, or after `maxSweeps`.
    func apply(step: Double, tolerance: Double = 1e-6, maxSweeps: Int = 100) {
        for (p, parameter) in parameters.enumerated() {
            parameter.value.withUnsafeBufferPointer { values in
                for e in 0..<values.count { v[offsets[p] + e] = Double(values[e]) }
            }
        }
        for i in sums.indices { sums[i] = 0 }
        for m in duals.indices { duals[m] = 0 }
        let limit = overlaps ? maxSweeps : 1
        var sweeps = 0, change = Double.infinity
        while sweeps < limit && change > tolerance {
            change = sweep(step: step)
            sweeps += 1
        }
        lastSweeps = sweeps
        lastChange = change
        for (p, parameter) in parameters.enumerated() {
            parameter.value.withUnsafeMutableBufferPointer { values in
                for e in 0..<values.count where sums[offsets[p] + e] != 0 {
                    values[e] = Float(v[offsets[p] + e] - sums[offsets[p] + e])
                }
            }
        }
    }

    /// One pass of block coordinate descent over every block; returns the largest change of a
    /// block (∞-norm) relative to its radius.
    private func sweep(step: Double) -> Double {
        var largest = 0.0
        v.withUnsafeBufferPointer { v in
            sums.withUnsafeMutableBufferPointer { sums in
                duals.withUnsafeMutableBufferPointer { duals in
                    members.withUnsafeBufferPointer { members in
                        for k in weights.indices {
                            let radius = step * weights[k]
                            guard radius > 0 else { continue }
                            let range = starts[k]..<starts[k + 1]
                            // The residual on block k with its own dual put back: v − Σ_{j≠k} ξ_j.
                            var squared = 0.0
                            for m in range {
                                let e = Int(members[m])
                                let r = v[e] - sums[e] + duals[m]
                                squared += r * r
                            }
                            let norm = squared.squareRoot()
                            let shrink = norm > radius ? radius / norm : 1
                            var moved = 0.0
                            for m in range {
                                let e = Int(members[m])
                                let updated = (v[e] - sums[e] + duals[m]) * shrink
                                let delta = updated - duals[m]
                                sums[e] += delta
                                duals[m] = updated
                                moved = max(moved, abs(delta))
                            }
                            largest = max(largest, moved / radius)
                        }
                    }
                }
            }
        }
        return largest
    }
}

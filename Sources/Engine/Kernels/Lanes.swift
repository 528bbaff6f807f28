// Explicit 8-wide vectors for the loops outside BLAS. The compiler does not vectorize these
// loops on its own: it cannot rule out that the buffers overlap, and the selects (ReLU,
// max-pool) stay branches. Loads and stores are unaligned; every loop keeps a scalar tail.

typealias Lanes = SIMD8<Float>
let laneCount = Lanes.scalarCount

extension UnsafePointer where Pointee == Float {
    @inline(__always) func lanes(_ i: Int) -> Lanes { UnsafeRawPointer(self + i).loadUnaligned(as: Lanes.self) }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) func lanes(_ i: Int) -> Lanes { UnsafeRawPointer(self + i).loadUnaligned(as: Lanes.self) }
    @inline(__always) func store(_ v: Lanes, _ i: Int) { UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: Lanes.self) }
}

/// Runs `vector(i)` for i = lo, lo+8, … while 8 elements remain, then `scalar(i)` for the rest.
@inline(__always)
func forEachLane(_ range: Range<Int>, vector: (Int) -> Void, scalar: (Int) -> Void) {
    var i = range.lowerBound
    while i + laneCount <= range.upperBound { vector(i); i += laneCount }
    while i < range.upperBound { scalar(i); i += 1 }
}

/// e^x in every lane (Cephes' expf): x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by a degree-7
/// polynomial, 2^n written straight into the exponent bits. Within about 1 ulp of the true value
/// for −87.3 ≤ x ≤ 88; outside, it returns the value at the nearer end (≈1.2e−38 or ≈1.65e38),
/// which is all a sigmoid needs. Swift has no vector exp, and a call per lane costs more than
/// the rest of an activation.
@inline(__always)
func exponential(_ x: Lanes) -> Lanes {
    let x = x.replacing(with: 88, where: x .> 88).replacing(with: -87.3, where: x .< -87.3)
    // n = round(x·log2 e): adding 1.5·2^23 pushes the fraction out of the mantissa, so the
    // low mantissa bits of `shifted` hold n itself.
    let magic: Lanes = Lanes(repeating: 12_582_912)
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic
    // r = x − n·ln 2, with ln 2 split in two so the first product is exact.
    let r = x - n * 0.693_359_375 - n * -2.121_944_4e-4
    var p: Lanes = Lanes(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let er = p * (r * r) + r + 1
    let exponent = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127
    return er * unsafeBitCast(exponent &<< 23, to: Lanes.self)
}

/// The lanes of a vector that a loop over a row visits for the first time.
typealias LaneMask = SIMDMask<SIMD8<Int32>>

/// `forEachLane` for a loop over one row of channels, where a scalar tail after every row
/// cost more than the row's vectors (a pruned layer's 22 channels: 2 vectors and 6 scalar
/// steps per row; BatchNorm's backward pass over such rows took twice its time over 32): in
/// a range of at least 8 elements the tail is one more vector, over the range's last 8
/// elements, `fresh` true on the lanes not visited yet. A body that accumulates stores with
/// `store(_:_:fresh:)`, which leaves the other lanes as they are; a body whose lanes depend
/// on its inputs alone may store them all again. Each lane computes what the scalar step
/// computed, so results do not change. Shorter ranges run `scalar(i)` element by element.
/// A masked store reads the row back just after writing it, and a load straddling the store
/// before it waits for that store: where a row is read back at once anyway (a max over a
/// window kept in memory, an epilogue written in place) that measured slower than the
/// scalar steps, so those loops are written not to read back (PoolKernels.maxForward,
/// BatchNormKernels.affineRows).
@inline(__always)
func forEachLaneOfRow(_ range: Range<Int>, vector: (Int, LaneMask) -> Void, scalar: (Int) -> Void) {
    var i = range.lowerBound
    while i + laneCount <= range.upperBound { vector(i, LaneMask(repeating: true)); i += laneCount }
    guard i < range.upperBound else { return }
    if range.count >= laneCount {
        let last = range.upperBound - laneCount
        vector(last, SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .>= SIMD8(repeating: Int32(i - last)))
    } else {
        while i < range.upperBound { scalar(i); i += 1 }
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// Stores the `fresh` lanes of v, leaving the others as they are.
    @inline(__always) func store(_ v: Lanes, _ i: Int, fresh: LaneMask) { store(v.replacing(with: lanes(i), where: .!fresh), i) }
}

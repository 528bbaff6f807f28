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

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

// A float32 tensor: a shape and one contiguous, owned buffer.
//
// Layout: activations are NHWC (batch, height, width, channels) throughout the engine.
// With channels innermost, a convolution is one "im2row" gather of contiguous channel runs
// followed by a single GEMM whose result is already NHWC, and BatchNorm's per-channel
// statistics are a stride-1 sweep. Convolution weights are stored as (out, kh, kw, in) to
// match; checkpoints convert to and from PyTorch's (out, in, kh, kw) at the boundary.

/// A dense float32 tensor that owns its memory. Reference semantics: layers write into
/// tensors they were handed, so buffers are allocated once and reused every batch.
public final class Tensor {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    /// Capacity of `storage` in elements; `reshape` may shrink `count` without reallocating.
    private var capacity: Int
    /// Raw storage. Only kernels inside the engine touch it.
    var storage: UnsafeMutablePointer<Float>

    /// A zero-filled tensor of `shape`.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.capacity = max(count, 1)
        self.storage = .allocate(capacity: capacity)
        storage.initialize(repeating: 0, count: capacity)
    }

    /// A tensor of `shape` holding `values` (row-major).
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: count) }
    }

    deinit { storage.deallocate() }

    /// Changes the shape, reallocating only when the new shape needs more room than ever
    /// before. Contents are unspecified after a reallocation.
    public func reshape(_ newShape: [Int]) {
        let newCount = newShape.reduce(1, *)
        if newCount > capacity {
            storage.deallocate()
            capacity = newCount
            storage = .allocate(capacity: capacity)
            storage.initialize(repeating: 0, count: capacity)
        }
        shape = newShape
        count = newCount
    }

    public subscript(index: Int) -> Float {
        get { precondition(index >= 0 && index < count); return storage[index] }
        set { precondition(index >= 0 && index < count); storage[index] = newValue }
    }

    /// The elements as an array (row-major).
    public var values: [Float] { Array(UnsafeBufferPointer(start: storage, count: count)) }

    public func copy(from values: [Float]) {
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: count) }
    }

    public func copy(from other: Tensor) {
        precondition(other.count == count, "copying \(other.shape) into \(shape)")
        storage.update(from: other.storage, count: count)
    }

    public func fill(_ value: Float) { storage.update(repeating: value, count: count) }

    public func clone() -> Tensor {
        let t = Tensor(shape: shape)
        t.storage.update(from: storage, count: count)
        return t
    }

    /// Read access to the elements without copying.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage, count: count))
    }

    /// Write access to the elements without copying.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage, count: count))
    }
}

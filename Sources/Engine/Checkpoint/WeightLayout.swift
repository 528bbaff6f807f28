/// Conversions between the engine's (out, kh, kw, in) filters and PyTorch's (out, in, kh, kw).
public enum WeightLayout {
    public static func ohwiToOihw(_ w: [Float], out: Int, kh: Int, kw: Int, input: Int) -> [Float] {
        var result = [Float](repeating: 0, count: w.count)
        for o in 0..<out { for y in 0..<kh { for x in 0..<kw { for i in 0..<input {
            result[((o * input + i) * kh + y) * kw + x] = w[((o * kh + y) * kw + x) * input + i]
        } } } }
        return result
    }

    public static func oihwToOhwi(_ w: [Float], out: Int, kh: Int, kw: Int, input: Int) -> [Float] {
        var result = [Float](repeating: 0, count: w.count)
        for o in 0..<out { for y in 0..<kh { for x in 0..<kw { for i in 0..<input {
            result[((o * kh + y) * kw + x) * input + i] = w[((o * input + i) * kh + y) * kw + x]
        } } } }
        return result
    }
}

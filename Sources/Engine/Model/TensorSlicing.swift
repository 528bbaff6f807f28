// Surgery's cut of one tensor, by its layout: the rows of a weight follow the layer's output
// channels, its columns the input features; per-channel tensors follow the output channels.

public enum TensorSlicing {
    /// The kept rows and columns of `values` laid out as `role` says (nil keeps all).
    public static func slice(_ values: [Float], role: ParameterRole, rows: [Int]?, columns: [Int]?) -> [Float] {
        switch role {
        case .convolutionWeight(let out, let kh, let kw, let input):
            // (out, kh, kw, in): every kept row, every tap, the kept input channels.
            let keptRows = rows ?? Array(0..<out), keptColumns = columns ?? Array(0..<input)
            var result: [Float] = []
            result.reserveCapacity(keptRows.count * kh * kw * keptColumns.count)
            for o in keptRows {
                for tap in 0..<(kh * kw) {
                    let base = (o * kh * kw + tap) * input
                    for c in keptColumns { result.append(values[base + c]) }
                }
            }
            return result
        case .linearWeight(let out, let input):
            let keptRows = rows ?? Array(0..<out), keptColumns = columns ?? Array(0..<input)
            var result: [Float] = []
            result.reserveCapacity(keptRows.count * keptColumns.count)
            for o in keptRows { for c in keptColumns { result.append(values[o * input + c]) } }
            return result
        case .perChannel:
            return rows.map { $0.map { values[$0] } } ?? values
        }
    }
}

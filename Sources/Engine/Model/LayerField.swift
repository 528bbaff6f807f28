import Foundation

// The per-kind fields of a layer in the architecture JSON, each with its JSON name and type.
// A kind's rule lists the ones it accepts (`LayerRule.fields`); any other field on a layer of
// that kind is an error.

public enum LayerField: String, CaseIterable, Sendable {
    case out, kernel, stride, padding, dilation, groups, bias, eps, momentum, ceil
    case countPadding = "count_pad"
    case size, p

    enum ValueType { case integer, boolean, number, integerPair }

    var valueType: ValueType {
        switch self {
        case .out, .kernel, .stride, .padding, .dilation, .groups: .integer
        case .bias, .ceil, .countPadding: .boolean
        case .eps, .momentum, .p: .number
        case .size: .integerPair
        }
    }

    /// Reads this field's JSON value into `spec`; `fail` builds the error naming it.
    func read(_ value: Any, into spec: inout LayerSpec, fail: (String) -> ArchitectureError) throws(ArchitectureError) {
        switch valueType {
        case .integer:
            guard let number = value as? Int, !Self.isBoolean(value) else { throw fail("not an integer") }
            switch self {
            case .out: spec.outChannels = number
            case .kernel: spec.kernel = number
            case .stride: spec.stride = number
            case .padding: spec.padding = number
            case .dilation: spec.dilation = number
            case .groups: spec.groups = number
            default: preconditionFailure("\(self) is not an integer field")
            }
        case .boolean:
            guard Self.isBoolean(value), let flag = value as? Bool else { throw fail("not true or false") }
            switch self {
            case .bias: spec.bias = flag
            case .ceil: spec.ceil = flag
            case .countPadding: spec.countPadding = flag
            default: preconditionFailure("\(self) is not a boolean field")
            }
        case .number:
            guard let number = value as? Double, !Self.isBoolean(value), number.isFinite else { throw fail("not a finite number") }
            switch self {
            case .eps: spec.eps = number
            case .momentum: spec.momentum = number
            case .p: spec.p = number
            default: preconditionFailure("\(self) is not a number field")
            }
        case .integerPair:
            // [h, w], or one integer for both.
            if let single = value as? Int, !Self.isBoolean(value) {
                spec.size = [single, single]
            } else if let pair = value as? [Any], pair.count == 2,
                      let h = pair[0] as? Int, let w = pair[1] as? Int, !Self.isBoolean(pair[0]), !Self.isBoolean(pair[1]) {
                spec.size = [h, w]
            } else {
                throw fail("expected [height, width] or one integer")
            }
        }
    }

    /// JSONSerialization hands back booleans as NSNumbers that also cast to Int and Double.
    static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }
}

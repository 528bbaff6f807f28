// The layer kinds of the architecture JSON (docs/architecture-json.md §1). Each kind's rules
// live in its rule (Kinds/); this switch is exhaustive, so a kind without a rule does not
// compile.

public enum LayerKind: String, Codable, CaseIterable, Sendable {
    case conv2d, linear, batchnorm
    case relu, relu6, sigmoid, hardsigmoid, hardswish, silu
    case dropout, stochasticdepth
    case maxpool, avgpool, adaptiveavgpool, globalavgpool, flatten
    case add, mul, concat

    public var rule: any LayerRule {
        switch self {
        case .conv2d: Conv2dRule()
        case .linear: LinearRule()
        case .batchnorm: BatchNormRule()
        case .relu, .relu6, .sigmoid, .hardsigmoid, .hardswish, .silu: ActivationRule(kind: self)
        case .dropout, .stochasticdepth: DropoutRule(kind: self)
        case .maxpool, .avgpool: PoolingRule(kind: self)
        case .adaptiveavgpool: AdaptiveAveragePoolRule()
        case .globalavgpool: GlobalAveragePoolRule()
        case .flatten: FlattenRule()
        case .add: AddRule()
        case .mul: MulRule()
        case .concat: ConcatRule()
        }
    }
}

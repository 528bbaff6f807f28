// The layer kinds of the architecture JSON (docs/architecture-json.md §1). Each kind's rules
// live in its rule (Kinds/); this switch is exhaustive, so a kind without a rule does not
// compile.

public enum LayerKind: String, Codable, CaseIterable, Sendable {
    case conv2d, batchnorm, relu, maxpool, avgpool, globalavgpool, flatten, linear, add

    public var rule: any LayerRule {
        switch self {
        case .conv2d: Conv2dRule()
        case .linear: LinearRule()
        case .batchnorm: BatchNormRule()
        case .relu: ActivationRule(kind: self)
        case .maxpool, .avgpool: PoolingRule(kind: self)
        case .globalavgpool: GlobalAveragePoolRule()
        case .flatten: FlattenRule()
        case .add: AddRule()
        }
    }
}

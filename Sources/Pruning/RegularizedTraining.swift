import Engine

// Training with a pruning regularizer: the engine's trainer with the regularizer plugged in,
// and the facts a checkpoint records about it.

public struct RegularizerChoice: Equatable, Sendable {
    public var kind: RegularizerKind
    public var options: RegularizerOptions
    /// Regularize (and later prune) the residual channels coupled across a stage too.
    public var includeCoupled: Bool

    public init(kind: RegularizerKind, lambda: Double? = nil, includeCoupled: Bool = false) {
        self.kind = kind
        self.options = RegularizerOptions(lambda: lambda ?? Self.defaultLambda(kind))
        self.includeCoupled = includeCoupled
    }

    /// λ per regularizer for convnet-s on Fashion-MNIST (2 epochs) with the proximal step, as
    /// the sweep in docs/oicsr-study.md chose them on validation.
    public static func defaultLambda(_ kind: RegularizerKind) -> Double {
        switch kind {
        case .l2: return 0
        case .gl: return 0.1
        case .oicsrGL: return 0.1
        case .l1BN: return 0.03
        }
    }

    /// A trainer for `model` with this regularizer attached.
    public func trainer(for model: Model, configuration: TrainingConfiguration) -> Trainer {
        let groups = ChannelGroups(graph: model.graph, includeCoupled: includeCoupled)
        return Trainer(model: model, configuration: configuration,
                       regularizer: Regularizers.make(kind, options: options, model: model, groups: groups))
    }
}

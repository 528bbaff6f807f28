import Engine

// The sparsity regularizers of docs/design.md §5, added to cross-entropy and weight decay during
// training through the engine's `Regularizer` hook.

public enum Regularizers {
    /// The regularizer for `kind`, or nil for L2 (nothing beyond weight decay).
    public static func make(_ kind: RegularizerKind, options: RegularizerOptions, model: Model,
                            groups: ChannelGroups) -> (any Regularizer)? {
        let tensors = GroupTensors(model: model, groups: groups)
        switch kind {
        case .l2:
            return nil
        case .gl:
            // One group per producer filter: a coupled space's producers are regularized separately.
            let sets = tensors.filters.enumerated().flatMap { g, segments in
                segments.filter { $0.parameter.name.hasSuffix(".weight") }.map { (segments: [$0], width: groups.groups[g].width) }
            }
            return GroupLasso(sets: sets, options: options)
        case .oicsrGL:
            let sets = groups.groups.indices.map { g in
                (segments: tensors.outInGroup(g, withBatchNorm: options.batchNormInGroup), width: groups.groups[g].width)
            }
            return GroupLasso(sets: sets, options: options)
        case .l1BN:
            // The scales of the channels that can be pruned, as GL's filters: a BatchNorm on
            // channels no selection may remove (the image's, a residual stage's unless coupled
            // channels are on) is left alone.
            let sets = tensors.scales.enumerated().flatMap { g, segments in segments.map { (segment: $0, width: groups.groups[g].width) } }
            return BatchNormL1(scales: sets, lambda: options.lambda, step: options.step)
        }
    }
}

/// What a pruning target counts: MACs, parameters or prunable channels.
public enum TargetMetric: String, CaseIterable, Sendable, Codable {
    case flops, parameters, channels
}

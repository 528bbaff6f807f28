/// What an architecture may declare: checked before anything is allocated, so a file cannot
/// ask for more than a machine holds or make size arithmetic overflow.
public enum ArchitectureLimits {
    /// Channels, heights, widths, kernels, strides, dilations and groups.
    public static let dimension = 1 << 20
    public static let padding = 1 << 16
    /// Values of one activation, per example.
    public static let activation = 1 << 31
    /// Parameters of the whole model.
    public static let parameters = 1 << 31

    /// Values of one example's activation, or nil beyond the limit.
    public static func elements(_ shape: FeatureShape) -> Int? {
        guard let count = product([shape.height, shape.width, shape.channels]), count <= activation else { return nil }
        return count
    }

    /// The product, or nil on overflow.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = value
        }
        return result
    }
}

/// A rejected architecture: which layer, which field, what is wrong.
public struct ArchitectureError: Error, CustomStringConvertible, Equatable {
    public var source: String
    public var layer: String?
    public var field: String?
    public var problem: String

    public init(source: String, layer: String? = nil, field: String? = nil, problem: String) {
        self.source = source; self.layer = layer; self.field = field; self.problem = problem
    }

    public var description: String {
        var place = source
        if let layer { place += ": layer '\(layer)'" }
        if let field { place += ", field '\(field)'" }
        return "\(place): \(problem)"
    }
}

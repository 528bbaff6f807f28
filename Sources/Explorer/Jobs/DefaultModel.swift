import Canvas
import Engine
import Pruning

// The model `oicsr` opens when none is named: convnet-s trained with OICSR-GL, cached in the
// user's cache folder (XDG Base Directory: $XDG_CACHE_HOME, else ~/.cache) so that the
// first run trains it and every later run opens at once.

public enum DefaultModel {
    public static let architecture = BuiltInModel.convnetS
    public static let regularizer = RegularizerChoice(kind: .oicsrGL)
    /// The engine's defaults: 2 epochs, batch 128, lr 0.05 cosine, momentum 0.9, weight decay 5e-4, seed 1.
    public static let configuration = TrainingConfiguration()

    /// The cache folder: `$XDG_CACHE_HOME/oicsr`, else `~/.cache/oicsr`. The specification
    /// says a relative XDG_CACHE_HOME is invalid and must be ignored.
    public static func cacheFolder(environment: [String: String]) -> String {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/oicsr" }
        return (environment["HOME"] ?? "/tmp") + "/.cache/oicsr"
    }

    /// Where the default model for a data set is cached. The plain name is for the default
    /// data (all of Fashion-MNIST); another data set or a `--limit` gets a name of its own,
    /// so a quick run never stands in for the real model.
    public static func cachePath(environment: [String: String], dataset: String, limit: Int?) -> String {
        var name = "\(architecture.rawValue)-\(regularizer.kind.rawValue)"
        if dataset != "fashion-mnist" { name += "-" + dataset }
        if let limit { name += "-first\(limit)" }
        return cacheFolder(environment: environment) + "/" + name + ".safetensors"
    }
}

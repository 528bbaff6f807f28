import Canvas
import Pruning

// The command line that makes, from a script, the model the explorer's selection describes:
//   oicsr prune m.safetensors --flops 0.304 --criterion out-in --normalization raw --compensate on --out m-pruned-30.safetensors
// `oicsr prune` runs the same walk and stops at the first step whose removed share reaches
// `--flops`; the share printed is the shortest decimal that stops it at the explorer's step.

extension ExplorerState {
    /// The `oicsr prune` command for the current selection (with the repairs the current
    /// pruned model went through, when it is this selection's); nil when nothing is selected.
    public func reproducingCommand() -> String? {
        guard let walk, settings.steps > 0 else { return nil }
        let selection = walk.selection
        let share = Self.shortestShare(above: selection.removedShare(after: settings.steps - 1),
                                       upTo: selection.removedShare(after: settings.steps))
        var words = ["oicsr", "prune", Self.quoted(model.path), "--flops", share,
                     "--criterion", settings.criterion.rawValue, "--normalization", settings.normalization.rawValue,
                     "--compensate", settings.compensates ? "on" : "off"]
        if settings.coupled { words.append("--coupled") }
        if let pruned = results.pruned, pruned.settings.walkKey == settings.walkKey, pruned.settings.steps == settings.steps {
            if pruned.batchNormReestimations > 0 { words += ["--bn-recalibrate", String(Jobs.batchNormExamples)] }
            if pruned.fineTuningEpochs > 0 {
                words += ["--finetune-epochs", String(pruned.fineTuningEpochs), "--lr", "\(Jobs.fineTuning.learningRate)"]
            }
        }
        words += model.dataArguments.map(Self.quoted)
        let percent = Int((selection.removedShare(after: settings.steps) * 100).rounded())
        words += ["--out", Self.quoted(Self.stem(model.path) + "-pruned-\(percent).safetensors")]
        return words.joined(separator: " ")
    }

    /// The shortest decimal in (low, high], as text: the fewest digits that still land
    /// between two consecutive steps of the walk.
    static func shortestShare(above low: Double, upTo high: Double) -> String {
        for decimals in 1...12 {
            var scale = 1.0
            for _ in 0..<decimals { scale *= 10 }
            let candidate = ((low * scale).rounded(.down) + 1) / scale
            if candidate > low, candidate <= high { return Format.fixed(candidate, decimals: decimals) }
        }
        return String(high)
    }

    /// The path without its extension.
    static func stem(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return path }
        return String(path[..<dot])
    }

    /// A word for a POSIX shell: as is when it is plain, else in single quotes.
    static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

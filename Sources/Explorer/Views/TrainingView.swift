import Canvas
// The first run's screen: the default model is trained before there is anything to explore.
// A box says what is trained, on what, and where it goes, with the job's progress; Esc
// cancels, caches nothing and quits (the command then says so and exits with status 1).

enum TrainingView {
    static func draw(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) {
        grid.put(" oicsr ", x: 0, y: 0, style: .title)
        grid.put("first run: training the default model", in: Rect(x: 7, y: 0, width: grid.width - 7, height: 1), style: .dim)

        let model = state.model
        let configuration = DefaultModel.configuration
        let width = min(grid.width - 4, 96)
        let textWidth = width - 6
        let epochs = configuration.epochs == 1 ? "1 epoch" : "\(configuration.epochs) epochs"
        var lines: [(String, Style)] = [("No cached model yet; training one now, once.", .normal), ("", .normal)]
        let what = "\(model.name) with \(model.regularizer.kind.rawValue) (λ \(Format.significant(model.regularizer.lambda))) on \(model.dataset), \(model.trainExamples) images:"
        let how = "\(epochs), batch \(configuration.batchSize), lr \(Format.significant(Double(configuration.learningRate))) cosine, momentum \(Format.significant(Double(configuration.momentum))), weight decay \(Format.significant(Double(configuration.weightDecay)))"
        lines += (Text.wrapped(what, width: textWidth) + Text.wrapped(how, width: textWidth)).map { ($0, .normal) }
        lines += wrappedPath("cached at " + model.path, width: textWidth).map { ($0, .dim) }
        let frame = Rect(size: grid.size).centered(width: width, height: lines.count + 8)
        Box(title: "Training \(model.name)").render(into: &grid, area: frame)
        let inner = Box.inner(frame).inset(horizontal: 2, vertical: 1)
        for (index, (text, style)) in lines.enumerated() { grid.put(text, in: inner.row(index), style: style) }

        let progress = state.job?.progress
        let barRow = inner.row(lines.count + 1)
        if let job = state.job {
            let label = (progress?.phase).map { $0.isEmpty ? "training" : $0 } ?? "starting"
            grid.render(ProgressBar(label: label, fraction: progress?.share ?? 0, scope: progress?.scope, rate: progress?.rate,
                                    unit: progress?.unit ?? "img", etaSeconds: job.eta.secondsLeft, showsEta: true,
                                    cancelHint: job.isCancelling ? "cancelling…" : "Esc cancels"),
                        in: barRow)
            if let detail = progress?.detail, !detail.isEmpty { grid.put(detail, in: inner.row(lines.count + 2), style: .dim) }
        }
        if let message = state.message {
            grid.put((message.kind == .error ? "error: " : "") + message.text, in: inner.row(lines.count + 4),
                     style: ExplorerView.style(of: message))
        }
        grid.render(KeyHints(ExplorerKeys.training), in: layout.hints)
    }

    /// A path on as many lines as it needs, broken after a "/" so no folder name is cut.
    static func wrappedPath(_ text: String, width: Int) -> [String] {
        guard width > 0, text.count > width else { return [text] }
        var lines: [String] = []
        var line = ""
        var piece = ""
        for character in text {
            piece.append(character)
            if character == "/" || character == " " {
                if line.count + piece.count > width, !line.isEmpty {
                    lines.append(line)
                    line = "  "
                }
                line += piece
                piece = ""
            }
        }
        if line.count + piece.count > width, !line.isEmpty {
            lines.append(line)
            line = "  "
        }
        line += piece
        lines.append(line)
        return lines.flatMap { $0.count > width ? Text.wrapped($0, width: width) : [$0] }
    }
}

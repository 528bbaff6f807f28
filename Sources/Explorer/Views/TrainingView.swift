import Canvas
// The first run's screen: the default model is trained before there is anything to explore.
// A box says what is trained, on what, and where it goes, with the job's progress; Esc
// cancels (and quits, caching nothing).

enum TrainingView {
    static func draw(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) {
        grid.put(" oicsr ", x: 0, y: 0, style: .title)
        grid.put("first run: training the default model", in: Rect(x: 7, y: 0, width: grid.width - 7, height: 1), style: .dim)

        let model = state.model
        let configuration = DefaultModel.configuration
        let lines: [(String, Style)] = [
            ("No cached model yet; training one now, once.", .normal),
            ("", .normal),
            ("\(model.name) with \(model.regularizer.kind.rawValue) (λ \(Format.significant(model.regularizer.lambda))) on \(model.dataset): \(model.trainExamples) images,", .normal),
            ("\(configuration.epochs) epochs, batch \(configuration.batchSize), lr \(Format.significant(Double(configuration.learningRate))) cosine, momentum \(Format.significant(Double(configuration.momentum))), weight decay \(Format.significant(Double(configuration.weightDecay)))", .normal),
            ("cached at \(model.path)", .dim),
        ]
        let width = min(grid.width - 4, 96)
        let frame = Rect(size: grid.size).centered(width: width, height: lines.count + 8)
        Box(title: "Training \(model.name)").render(into: &grid, area: frame)
        let inner = Box.inner(frame).inset(horizontal: 2, vertical: 1)
        for (index, (text, style)) in lines.enumerated() { grid.put(text, in: inner.row(index), style: style) }

        let progress = state.job?.progress
        let barRow = inner.row(lines.count + 1)
        if let job = state.job {
            let label = (progress?.phase).map { $0.isEmpty ? "training" : $0 } ?? "starting"
            grid.render(ProgressBar(label: label, fraction: progress?.share ?? 0, rate: progress?.rate, unit: progress?.unit ?? "img",
                                    etaSeconds: progress?.etaSeconds, cancelHint: job.isCancelling ? "cancelling…" : "Esc cancels"),
                        in: barRow)
            if let detail = progress?.detail, !detail.isEmpty { grid.put(detail, in: inner.row(lines.count + 2), style: .dim) }
        }
        if let message = state.message {
            grid.put((message.kind == .error ? "error: " : "") + message.text, in: inner.row(lines.count + 4),
                     style: ExplorerView.style(of: message))
        }
        grid.render(KeyHints(ExplorerKeys.training), in: layout.hints)
    }
}

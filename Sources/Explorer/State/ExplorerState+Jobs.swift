import Canvas
import Pruning

// Background jobs as the state machine sees them: one at a time, except that the
// sensitivity analysis gives way. Asking for another job while it runs pauses it (its
// figures so far are kept), runs the other job, then resumes it. Job results land on the
// pruned model they concern; the session keeps a few pruned models to compare and return to.

extension ExplorerState {
    // MARK: Starting jobs

    /// Starts `request` now, or after pausing the sensitivity job; refuses (and says so)
    /// while another job runs.
    private mutating func start(_ request: JobRequest, pruning: SelectionSettings? = nil) -> [Effect] {
        if let running = job {
            guard running.kind == .sensitivity, !running.isCancelling else {
                message = Message(.warning, "\(running.kind.label) is running; wait, or Esc cancels it")
                return []
            }
            job?.isCancelling = true
            queued = request
            resumesSensitivity = true
            message = Message(.info, "sensitivity paused for \(request.kind.label); it resumes after")
            return [.cancelJob]
        }
        job = RunningJob(kind: request.kind, pruning: pruning, model: request.model)
        return [.start(request)]
    }

    /// Asks for the ranking that keeps the most at the current target (`Jobs.calibrate`).
    mutating func calibrate() -> [Effect] {
        guard settings.target > 0, !isTargetUnreachable else {
            message = Message(.warning, settings.target == 0 ? "no target to choose a ranking for: + raises it" : "the target is out of reach")
            return []
        }
        return start(.calibrate(target: settings.target, settings: settings, criteria: ImportanceCriterion.open(by: model.regularizer.kind)))
    }

    mutating func prune() -> [Effect] {
        guard let walk else { return [] }
        guard settings.steps > 0 else {
            message = Message(.warning, "nothing selected: raise the target (+) or step the walk (])")
            return []
        }
        if let same = results.models.first(where: { $0.settings.walkKey == settings.walkKey && $0.settings.steps == settings.steps }) {
            results.current = same.id
            view = .results
            message = Message(.info, "this selection is pruned model \(same.name) already; it is the current one")
            return []
        }
        if let running = job, running.kind != .sensitivity || running.isCancelling {
            message = Message(.warning, "\(running.kind.label) is running; wait, or Esc cancels it")
            return []
        }
        var effects: [Effect] = []
        if results.models.count >= Self.keptModels {
            if let oldestSaved = results.models.first(where: \.isSaved) {
                effects += discard(oldestSaved.id)
            } else {
                overlay = .confirmDiscard(model: results.models[0].id)
                return []
            }
        }
        let id = nextModelID
        nextModelID += 1
        return effects + start(.prune(plan: walk.selection.plan(steps: settings.steps), settings: settings,
                                      removedShare: walk.selection.removedShare(after: settings.steps), model: id),
                               pruning: settings)
    }

    /// Drops pruned model `id` from the session.
    mutating func discard(_ id: Int) -> [Effect] {
        guard let index = results.index(of: id) else { return [] }
        let gone = results.models.remove(at: index)
        if results.current == id { results.current = results.models.last?.id }
        message = Message(.info, "dropped pruned model \(gone.name)")
        return [.forget(model: id)]
    }

    mutating func evaluate() -> [Effect] {
        let dense = results.dense == nil || results.denseSpeed == nil
        let pruned = results.current
        guard dense || pruned != nil else {
            message = Message(.info, "the dense model is evaluated; prune (p) to compare")
            return []
        }
        return start(.evaluate(dense: dense, pruned: pruned))
    }

    mutating func startOnPruned(_ request: (Int) -> JobRequest) -> [Effect] {
        guard let current = results.current else {
            message = Message(.warning, "no pruned model yet: p prunes the current selection")
            return []
        }
        return start(request(current))
    }

    mutating func save() -> [Effect] {
        guard let pruned = results.pruned else {
            message = Message(.warning, "no pruned model yet: p prunes the current selection")
            return []
        }
        if pruned.isSaved, let path = pruned.savedPath {
            message = Message(.info, "already saved as \(path)")
            return []
        }
        var metrics: [String: Double] = [
            "macs": Double(pruned.after.macs), "parameters": Double(pruned.after.parameters),
            "flops_removed": pruned.removedShare,
        ]
        if let latest = pruned.latest {
            metrics["top1"] = latest.top1
            metrics["loss"] = latest.loss
        }
        if let dense = results.dense { metrics["dense_top1"] = dense.top1 }
        return start(.save(PruningFacts(removedShare: pruned.removedShare, metrics: metrics), model: pruned.id))
    }

    mutating func cycleModel(by delta: Int) {
        let models = results.models
        guard models.count > 1, let current = results.current, let index = results.index(of: current) else {
            message = Message(.info, models.isEmpty ? "no pruned model yet: p prunes the current selection"
                                                    : "one pruned model so far: p prunes another selection to compare")
            return
        }
        let next = models[(index + delta + models.count) % models.count]
        results.current = next.id
        resultsScroll = 0
        let figures = next.latest.map { "top-1 \(Format.percent($0.top1, decimals: 1))" } ?? "not evaluated"
        message = Message(.info, "pruned model \(next.name) of FLOPs: \(figures), \(next.isSaved ? "saved" : "unsaved")")
    }

    // MARK: Sensitivity

    /// Test images the sensitivity analysis evaluates: `--eval-limit`, else a thousand.
    public static func sensitivityExamples(evaluationLimit: Int?, testExamples: Int) -> Int {
        max(1, min(evaluationLimit ?? 1000, testExamples))
    }

    /// Training images the walk's BatchNorm re-estimation uses.
    public static func sensitivityBatchNormExamples(trainExamples: Int) -> Int {
        max(1, min(1000, trainExamples))
    }

    mutating func analyseSensitivity() -> [Effect] {
        if job?.kind == .sensitivity {
            message = Message(.info, "the sensitivity analysis is running; Esc stops it (what is measured stays)")
            return []
        }
        guard let request = sensitivityRequest() else {
            message = Message(.info, "sensitivity measured for \(settings.criterion.rawValue)/\(settings.normalization.rawValue) on \(sensitivity?.examples ?? 0) test images")
            return []
        }
        return start(.sensitivity(request))
    }

    /// What the analysis still lacks for the current settings; nil when nothing.
    mutating func sensitivityRequest() -> SensitivityRequest? {
        guard let walk, let analysis else { return nil }
        let examples = Self.sensitivityExamples(evaluationLimit: evaluationLimit, testExamples: model.testExamples)
        let table = sensitivity ?? SensitivityTable(
            dataset: model.dataset, examples: examples,
            batchNormExamples: Self.sensitivityBatchNormExamples(trainExamples: model.trainExamples),
            fingerprint: analysis.fingerprint)
        let layers = groups.indices.compactMap { g -> SensitivityLayer? in
            let group = groups[g]
            let known = table.layerCurve(criterion: settings.criterion, group: group.name)?.count ?? 0
            guard group.width >= 2, known < SensitivityTable.layerShares.count else { return nil }
            return SensitivityLayer(group: g, name: group.name, ascending: walk.ascending[g])
        }
        let targets = SensitivityTable.walkTargets(reachable: walk.selection.reachableShare)
        let known = table.walkCurve(settings.walkKey)?.count ?? 0
        let points = targets.dropFirst(known).map { target -> SensitivityWalkPoint in
            let steps = walk.selection.stepCount(toReach: target) ?? walk.selection.steps.count
            return SensitivityWalkPoint(steps: steps, removedShare: walk.selection.removedShare(after: steps),
                                        plan: walk.selection.plan(steps: steps))
        }
        guard table.denseTop1 == nil || !layers.isEmpty || !points.isEmpty else { return nil }
        return SensitivityRequest(table: table, key: settings.walkKey, layers: layers, walkPoints: points)
    }

    // MARK: Job events

    mutating func handle(_ event: JobEvent) -> [Effect] {
        switch event {
        case .progress(let progress):
            job?.progress = progress
            job?.eta.add(share: progress.share, elapsedSeconds: progress.elapsedSeconds)
            if let table = progress.sensitivity { sensitivity = table }
            return []
        case .failed(let problem):
            let label = job?.kind.label ?? "job"
            job = nil
            message = Message(.error, "\(label) failed: \(problem)")
        case .cancelled:
            let finished = job
            job = nil
            if phase == .training {
                isFinished = true
                ending = .trainingCancelled
                return [.quit]
            }
            if finished?.kind != .sensitivity || queued == nil {
                message = Message(.info, "\(finished?.kind.label ?? "job") cancelled" + (finished?.kind == .sensitivity ? "; what is measured is kept" : ""))
            }
        case .finished(let outcome):
            let finished = job
            job = nil
            apply(outcome, finished: finished)
        }
        return afterJob()
    }

    /// When a job ends: the job that paused the sensitivity analysis starts, or the
    /// analysis resumes.
    private mutating func afterJob() -> [Effect] {
        guard !isFinished, job == nil else { return [] }
        if let request = queued {
            queued = nil
            job = RunningJob(kind: request.kind, pruning: request.pruningSettings, model: request.model)
            return [.start(request)]
        }
        if resumesSensitivity {
            resumesSensitivity = false
            guard let request = sensitivityRequest() else { return [] }
            job = RunningJob(kind: .sensitivity)
            return [.start(.sensitivity(request))]
        }
        return []
    }

    private mutating func apply(_ outcome: JobOutcome, finished: RunningJob?) {
        switch outcome {
        case .trained(let analysis, let description, let evaluation):
            self.analysis = analysis
            model = description
            phase = .exploring
            results.dense = evaluation
            applySettings(SelectionSettings(criterion: description.matchingCriterion))
            channel = channelOrder.first ?? 0
            message = Message(.info, "trained and cached \(description.path): top-1 \(Format.percent(evaluation.top1, decimals: 1))")
        case .pruned(let id, let macs, let parameters):
            let made = finished?.pruning ?? settings
            let before = walk(for: made.walkKey).selection.before
            let after = CostFigures(macs: macs, parameters: parameters, channels: before.channels - made.steps)
            results.models.append(PrunedModel(id: id, settings: made, before: before, after: after))
            results.current = id
            view = .results
            resultsScroll = 0
            message = Message(.info, "pruned model #\(id): \(Format.compact(Double(before.macs))) → \(Format.compact(Double(macs))) MACs; e evaluates, b, f repair, s saves")
        case .evaluated(let dense, let denseSpeed, let pruned, let prunedSpeed, let id):
            if let dense { results.dense = dense }
            if let denseSpeed { results.denseSpeed = denseSpeed }
            if let id, let index = results.index(of: id) {
                if let pruned {
                    switch results.models[index].stage {
                    case .pruned: results.models[index].afterPruning = pruned
                    case .batchNormReestimated: results.models[index].afterBatchNorm = pruned
                    case .fineTuned: results.models[index].afterFineTuning = pruned
                    }
                }
                if let prunedSpeed { results.models[index].speed = prunedSpeed }
            }
            let on = (dense ?? pruned).map { $0.count < model.testExamples ? " on \($0.count) images" : "" } ?? ""
            let summary = [results.dense.map { "dense \(Format.percent($0.top1, decimals: 1))" },
                           pruned.map { "pruned \(Format.percent($0.top1, decimals: 1))" }].compactMap { $0 }
            message = Message(.info, "evaluated\(on): top-1 " + summary.joined(separator: ", "))
        case .reestimated(let id, let evaluation):
            guard let index = results.index(of: id) else { break }
            results.models[index].afterBatchNorm = evaluation
            results.models[index].stage = .batchNormReestimated
            results.models[index].isSaved = false
            results.models[index].batchNormReestimations += 1
            message = Message(.info, "BN statistics of #\(id) re-estimated: top-1 \(Format.percent(evaluation.top1, decimals: 1))")
        case .fineTuned(let id, let evaluation):
            guard let index = results.index(of: id) else { break }
            results.models[index].afterFineTuning = evaluation
            results.models[index].stage = .fineTuned
            results.models[index].isSaved = false
            results.models[index].fineTuningEpochs += 1
            message = Message(.info, "#\(id) fine-tuned one epoch: top-1 \(Format.percent(evaluation.top1, decimals: 1))")
        case .saved(let id, let path):
            guard let index = results.index(of: id) else { break }
            results.models[index].savedPath = path
            results.models[index].isSaved = true
            message = Message(.info, "saved \(path)")
        case .sensitivity(let table):
            sensitivity = table
            message = Message(.info, "sensitivity measured on \(table.examples) test images: the top-1 column and view 3")
        case .calibrated(let ranking, let compensates, let scores, let examples, let target):
            let before = (ranking: settings.ranking, compensates: settings.compensates)
            guard let best = scores.first(where: { $0.ranking == ranking && $0.compensated == compensates }) else {
                message = Message(.info, "only \(ranking.name) can reach \(Format.percent(target)); nothing to choose")
                break
            }
            useRanking(ranking, compensating: compensates)
            let same = ranking == before.ranking && compensates == before.compensates
            let was = scores.first { $0.ranking == before.ranking && $0.compensated == before.compensates }
                .map { "; \($0.name) kept \(Format.percent($0.top1, decimals: 1))" + ($0.examples == examples ? "" : " of the last \($0.examples)") } ?? ""
            message = Message(.info, "\(best.name) keeps the most at \(Format.percent(target)), \(Format.percent(best.top1, decimals: 1)) of the last \(examples) training images as pruned, of \(scores.count) candidates" + (same ? "" : was))
        }
    }
}

extension JobRequest {
    /// The selection a prune request makes a model of.
    var pruningSettings: SelectionSettings? {
        if case .prune(_, let settings, _, _) = self { return settings }
        return nil
    }
}

import Testing
import Engine
import TestSupport
@testable import Pruning

@Suite("The proximal operator of overlapping group lasso")
struct ProximalTests {
    /// A small convnet-s with random BatchNorm parameters, its groups, and OICSR's blocks.
    static func setup() throws -> (Model, [(segments: [Segment], channel: Int, weight: Double)]) {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(widths: [4, 4, 6, 6, 8]), seed: 4)
        for bn in model.parameters where bn.role == .perChannel {
            bn.value.copy(from: Fixtures.random(bn.value.shape, seed: 9, scale: 1).values)
        }
        let groups = try ChannelGroups(architecture: model.architecture)
        let tensors = GroupTensors(model: model, groups: groups)
        let blocks = groups.groups.flatMap { group in
            (0..<group.width).map { (segments: tensors.outInGroup(group.id, withBatchNorm: true), channel: $0, weight: 1.0) }
        }
        return (model, blocks)
    }

    /// ½‖x − v‖² + τ Σ_k ‖x_k‖, in double.
    static func objective(_ model: Model, _ v: [[Float]], _ blocks: [(segments: [Segment], channel: Int, weight: Double)], _ tau: Double) -> Double {
        var value = 0.0
        for (parameter, start) in zip(model.parameters, v) {
            for (a, b) in zip(parameter.value.values, start) { value += 0.5 * Double(a - b) * Double(a - b) }
        }
        for block in blocks { value += tau * GroupTensors.squaredNorm(block.segments, channel: block.channel).squareRoot() }
        return value
    }

    /// Every weight times all its groups' block soft-thresholding factors taken at v: the
    /// approximation the exact operator replaces.
    static func onePointApproximation(_ blocks: [(segments: [Segment], channel: Int, weight: Double)], _ tau: Double) {
        let factors = blocks.map { block -> Float in
            let norm = GroupTensors.squaredNorm(block.segments, channel: block.channel).squareRoot()
            return Float(norm > tau ? 1 - tau / norm : 0)
        }
        for (block, factor) in zip(blocks, factors) {
            for segment in block.segments {
                segment.parameter.value.withUnsafeMutableBufferPointer { values in
                    segment.forEachIndex(channel: block.channel) { values[$0] *= factor }
                }
            }
        }
    }

    @Test func overlappingGroupsReachTheMinimum() throws {
        let (model, blocks) = try Self.setup()
        let operatorUnderTest = GroupProximal(blocks: blocks)
        #expect(operatorUnderTest.overlaps, "a consumer's weights lie in two out-in groups")
        let v = model.parameters.map(\.value.values)
        // A threshold among the group norms: some groups end at zero, the others shrink.
        let norms = blocks.map { GroupTensors.squaredNorm($0.segments, channel: $0.channel).squareRoot() }.sorted()
        let tau = norms[norms.count / 3]
        operatorUnderTest.apply(step: tau, tolerance: 1e-9, maxSweeps: 10_000)
        #expect(operatorUnderTest.lastChange <= 1e-9, "converged after \(operatorUnderTest.lastSweeps) sweeps")
        let exact = Self.objective(model, v, blocks, tau)
        let x = model.parameters.map(\.value.values)
        let zeroed = blocks.filter { GroupTensors.squaredNorm($0.segments, channel: $0.channel) == 0 }.count
        #expect(zeroed > 0 && zeroed < blocks.count, "\(zeroed) of \(blocks.count) groups at exactly zero")

        // Optimality: no step along a direction lowers the objective (it is convex, so a local
        // minimum is the minimum). Directions: random, and towards the one-point approximation.
        var generator = SeededGenerator(seed: 17)
        func set(_ values: [[Float]]) { for (p, vs) in zip(model.parameters, values) { p.value.copy(from: vs) } }
        for trial in 0..<8 {
            let direction = x.map { $0.map { _ in generator.nextUniform(-1, 1) } }
            for sign in [Float(1), -1] {
                set(zip(x, direction).map { a, d in zip(a, d).map { $0 + sign * 1e-3 * $1 } })
                let moved = Self.objective(model, v, blocks, tau)
                #expect(moved >= exact - 1e-9, "trial \(trial): a step lowers the objective from \(exact) to \(moved)")
            }
        }
        set(v)
        Self.onePointApproximation(blocks, tau)
        let approximation = Self.objective(model, v, blocks, tau)
        let approximate = model.parameters.map(\.value.values)
        #expect(approximation > exact, "the one-point approximation is not the minimum: \(approximation) against \(exact)")
        // What the approximation gets wrong, for the record: its distance to the operator.
        var distance = 0.0, size = 0.0
        for (a, b) in zip(approximate.joined(), x.joined()) { distance += Double(a - b) * Double(a - b); size += Double(b) * Double(b) }
        #expect(distance.squareRoot() > 1e-4 * size.squareRoot())
    }

    @Test func defaultToleranceIsCloseToTheOperator() throws {
        // The training step's settings (tolerance 1e-6 of τ, at most 100 sweeps) land within
        // float precision of the converged operator at a realistic step (lr·λ = 0.005).
        let (model, blocks) = try Self.setup()
        let v = model.parameters.map(\.value.values)
        let reference = GroupProximal(blocks: blocks)
        reference.apply(step: 0.005, tolerance: 1e-12, maxSweeps: 10_000)
        let converged = model.parameters.map(\.value.values)
        for (p, values) in zip(model.parameters, v) { p.value.copy(from: values) }
        let training = GroupProximal(blocks: blocks)
        training.apply(step: 0.005)
        #expect(training.lastSweeps < 100)
        for (a, b) in zip(model.parameters.flatMap(\.value.values), converged.joined()) {
            #expect(abs(a - b) <= 1e-6 * max(1, abs(b)))
        }
    }

    @Test func disjointGroupsAreBlockSoftThresholding() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(widths: [4, 4, 6, 6, 8]), seed: 4)
        let groups = try ChannelGroups(architecture: model.architecture)
        let tensors = GroupTensors(model: model, groups: groups)
        let blocks = groups.groups.flatMap { group in
            (0..<group.width).map { (segments: Array(tensors.filters[group.id].prefix(1)), channel: $0, weight: 2.0) }
        }
        let norms = blocks.map { GroupTensors.squaredNorm($0.segments, channel: $0.channel).squareRoot() }
        let proximal = GroupProximal(blocks: blocks)
        #expect(!proximal.overlaps)
        let tau = norms.sorted()[norms.count / 2] / 2
        proximal.apply(step: tau)
        #expect(proximal.lastSweeps == 1)
        for (block, before) in zip(blocks, norms) {
            let after = GroupTensors.squaredNorm(block.segments, channel: block.channel).squareRoot()
            #expect(abs(after - max(0, before - 2 * tau)) < 1e-5)
        }
    }

    @Test func batchNormL1RegularizesThePrunableScalesOnly() throws {
        let model = try Model(architecture: BuiltInModel.resnet20.architecture(), seed: 2)
        let groups = try ChannelGroups(architecture: model.architecture)
        let prunable = Set(groups.groups.flatMap { $0.batchNorms.map { $0.layer + ".weight" } })
        #expect(!prunable.isEmpty && prunable.allSatisfy { $0.hasSuffix(".bn1.weight") }, "block-internal channels only: \(prunable.sorted())")
        let regularizer = try #require(Regularizers.make(.l1BN, options: RegularizerOptions(lambda: 1), model: model, groups: groups))
        let batchNorms = Set(model.architecture.layers.filter { $0.kind == .batchnorm }.map { $0.name + ".weight" })
        let scales = model.parameters.filter { batchNorms.contains($0.name) }
        let before = Dictionary(uniqueKeysWithValues: scales.map { ($0.name, $0.value.values) })
        regularizer.afterStep(learningRate: 100)
        for scale in scales {
            if prunable.contains(scale.name) {
                #expect(scale.value.values.allSatisfy { $0 == 0 }, "\(scale.name) is soft-thresholded")
            } else {
                #expect(scale.value.values == before[scale.name], "\(scale.name) holds channels no selection removes")
            }
        }
        // The penalty counts the same scales.
        let expected = prunable.reduce(0.0) { sum, name in sum + before[name]!.reduce(0.0) { $0 + Double(abs($1)) } }
        for scale in scales { scale.value.copy(from: before[scale.name]!) }
        #expect(abs(Double(regularizer.addGradient(to: model)) - expected) < 1e-3 * expected)
    }
}

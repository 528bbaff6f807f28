import Testing
import Engine
import TestSupport
@testable import Pruning

@Suite("Regularizer subgradients by finite differences")
struct RegularizerTests {
    @Test("penalty gradients", arguments: RegularizerKind.allCases.filter { $0 != .l2 })
    func gradients(kind: RegularizerKind) throws {
        let architecture = BuiltInModel.convnetS.architecture(widths: [4, 4, 6, 6, 8])
        let model = try Model(architecture: architecture, seed: 4)
        for bn in model.parameters where bn.role == .perChannel {
            // Keep BatchNorm scales away from the |γ| kink at zero.
            bn.value.copy(from: Fixtures.random(bn.value.shape, seed: 9, scale: 1).values.map { $0 >= 0 ? $0 + 0.2 : $0 - 0.2 })
        }
        let groups = try ChannelGroups(architecture: architecture)
        var options = RegularizerOptions(lambda: 0.3)
        options.step = .subgradient
        options.scaleBySize = kind == .gl
        let regularizer = try #require(Regularizers.make(kind, options: options, model: model, groups: groups))
        model.zeroGradients()
        let penalty = regularizer.addGradient(to: model)
        #expect(penalty > 0)
        // Evaluating the penalty adds to the gradients again, so keep the analytic ones aside.
        let analytic = model.parameters.map { $0.gradient.clone() }
        let check = FiniteDifferences(step: 1e-3, tolerance: 1e-2, samplesPerTensor: 40)
        for (parameter, gradient) in zip(model.parameters, analytic) {
            check.compare(name: "\(kind.rawValue): \(parameter.name)", value: parameter.value, analytic: gradient) {
                Double(regularizer.addGradient(to: model))
            }
        }
    }

    @Test func proximalStepShrinksGroupsAndZeroesWeakOnes() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(widths: [4, 4, 6, 6, 8]), seed: 4)
        let groups = try ChannelGroups(architecture: model.architecture)
        func filterNorms() -> [Double] {
            Energies(model: model, groups: groups, criterion: .outChannel, batchNormInGroup: false).raw.joined().map { $0.squareRoot() }
        }
        // GL's groups (filters) are disjoint: a threshold below every norm shrinks each by it.
        let before = filterNorms()
        let gl = try #require(Regularizers.make(.gl, options: RegularizerOptions(lambda: 1), model: model, groups: groups))
        let threshold = before.min()! - 0.05
        gl.afterStep(learningRate: Float(threshold))
        for (a, b) in zip(filterNorms(), before) { #expect(abs(a - (b - threshold)) < 1e-4) }

        // OICSR's groups overlap; every one still shrinks, and a large threshold zeroes them
        // all, BatchNorm entries included.
        let oicsr = try #require(Regularizers.make(.oicsrGL, options: RegularizerOptions(lambda: 1), model: model, groups: groups))
        let energies = Energies(model: model, groups: groups, criterion: .outIn).raw.joined()
        oicsr.afterStep(learningRate: 0.01)
        for (a, b) in zip(Energies(model: model, groups: groups, criterion: .outIn).raw.joined(), energies) { #expect(a < b) }
        oicsr.afterStep(learningRate: 100)
        #expect(Energies(model: model, groups: groups, criterion: .outIn).raw.joined().allSatisfy { $0 == 0 })
    }

    @Test func proximalL1SoftThresholdsScales() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(widths: [4, 4, 6, 6, 8]), seed: 4)
        let groups = try ChannelGroups(architecture: model.architecture)
        let scale = model.parameter(named: "bn2.weight")!.value
        scale.copy(from: [0.5, -0.2, 0.05, 1])
        let regularizer = try #require(Regularizers.make(.l1BN, options: RegularizerOptions(lambda: 1), model: model, groups: groups))
        regularizer.afterStep(learningRate: 0.1)
        #expect(zip(scale.values, [0.4, -0.1, 0, 0.9] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func oicsrPenaltyIsTheSumOfGroupNorms() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 4)
        let groups = try ChannelGroups(architecture: model.architecture)
        let regularizer = try #require(Regularizers.make(.oicsrGL, options: RegularizerOptions(lambda: 2), model: model, groups: groups))
        let energies = Energies(model: model, groups: groups, criterion: .outIn)
        let expected = 2 * energies.raw.joined().reduce(0) { $0 + $1.squareRoot() }
        #expect(abs(Double(regularizer.addGradient(to: model)) - expected) < 1e-3 * expected)
    }
}

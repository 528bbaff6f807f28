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

    @Test func oicsrPenaltyIsTheSumOfGroupNorms() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 4)
        let groups = try ChannelGroups(architecture: model.architecture)
        let regularizer = try #require(Regularizers.make(.oicsrGL, options: RegularizerOptions(lambda: 2), model: model, groups: groups))
        let energies = Energies(model: model, groups: groups, criterion: .outIn)
        let expected = 2 * energies.raw.joined().reduce(0) { $0 + $1.squareRoot() }
        #expect(abs(Double(regularizer.addGradient(to: model)) - expected) < 1e-3 * expected)
    }
}

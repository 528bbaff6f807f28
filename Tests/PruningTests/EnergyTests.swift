import Testing
import Engine
import TestSupport
@testable import Pruning

@Suite("Energies in double, and the normalisations")
struct EnergyTests {
    /// convnet-s's out-in energies computed straight from the tensors by their layouts,
    /// (out, kh, kw, in) for a convolution and (out, in) for the classifier, in double: an
    /// oracle that shares nothing with `GroupTensors`.
    static func independentEnergies(_ model: Model) -> [[Double]] {
        func values(_ name: String) -> [Float] { model.parameter(named: name)!.value.values }
        func shape(_ name: String) -> [Int] { model.parameter(named: name)!.value.shape }
        let convs = ["conv1", "conv2", "conv3", "conv4", "conv5"], bns = ["bn1", "bn2", "bn3", "bn4", "bn5"]
        var energies: [[Double]] = []
        for (l, conv) in convs.enumerated() {
            let w = values(conv + ".weight"), s = shape(conv + ".weight")
            let perFilter = s[1] * s[2] * s[3]
            let gamma = values(bns[l] + ".weight"), beta = values(bns[l] + ".bias")
            let consumer = l + 1 < convs.count ? convs[l + 1] : "fc"
            let c = values(consumer + ".weight"), cs = shape(consumer + ".weight")
            energies.append((0..<s[0]).map { i in
                var e = 0.0
                for k in 0..<perFilter { e += Double(w[i * perFilter + k]) * Double(w[i * perFilter + k]) }
                e += Double(gamma[i]) * Double(gamma[i]) + Double(beta[i]) * Double(beta[i])
                if cs.count == 4 {
                    let (out, taps, input) = (cs[0], cs[1] * cs[2], cs[3])
                    for o in 0..<out { for t in 0..<taps { let x = Double(c[(o * taps + t) * input + i]); e += x * x } }
                } else {
                    for o in 0..<cs[0] { let x = Double(c[o * cs[1] + i]); e += x * x }
                }
                return e
            })
        }
        return energies
    }

    /// Makes channel `j` of conv `layer`'s group a copy of channel `i` (filter, BatchNorm,
    /// consumer column) with its largest filter weight one float step larger in magnitude: the
    /// two energies then differ by a few parts in 1e9, below what a float sum resolves.
    static func nearTie(_ model: Model, layer: Int, copy i: Int, to j: Int) {
        let convs = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc"]
        let w = model.parameter(named: convs[layer] + ".weight")!.value
        let perFilter = w.count / w.shape[0]
        var largest = 0
        for k in 0..<perFilter {
            w[j * perFilter + k] = w[i * perFilter + k]
            if abs(w[i * perFilter + k]) > abs(w[i * perFilter + largest]) { largest = k }
        }
        let x = w[j * perFilter + largest]
        w[j * perFilter + largest] = x < 0 ? -x.magnitude.nextUp : x.magnitude.nextUp
        for name in ["bn\(layer + 1).weight", "bn\(layer + 1).bias"] {
            let t = model.parameter(named: name)!.value
            t[j] = t[i]
        }
        let c = model.parameter(named: convs[layer + 1] + ".weight")!.value
        let input = c.shape.last!
        for row in 0..<(c.count / input) { c[row * input + j] = c[row * input + i] }
    }

    @Test func nearTiesRankAsAnIndependentDoubleComputation() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 3)
        for bn in model.parameters where bn.role == .perChannel {
            bn.value.copy(from: Fixtures.random(bn.value.shape, seed: 5, scale: 1).values)
        }
        // In every layer, channel 2 becomes a hair stronger than channel 9, though it comes first.
        for layer in 0..<5 { Self.nearTie(model, layer: layer, copy: 9, to: 2) }
        let groups = try ChannelGroups(architecture: model.architecture)
        let energies = Energies(model: model, groups: groups, criterion: .outIn)
        let oracle = Self.independentEnergies(model)
        for (g, (mine, theirs)) in zip(energies.raw, oracle).enumerated() {
            for (i, (a, b)) in zip(mine, theirs).enumerated() {
                #expect(abs(a - b) <= 1e-12 * b, "group \(g) channel \(i): \(a) against \(b)")
            }
            #expect(mine[2] > mine[9], "group \(g): the near-tie keeps its order (\(mine[2]) against \(mine[9]))")
        }
        // The whole global order, as the walk sorts it, equals the oracle's.
        func order(_ e: [[Double]]) -> [[Int]] {
            e.enumerated().flatMap { g, v in v.indices.map { (v[$0], g, $0) } }.sorted { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }.map { [$0.1, $0.2] }
        }
        #expect(order(energies.raw) == order(oracle))
        for normalization in EnergyNormalization.allCases {
            let oracleEnergies = Energies(criterion: .outIn, raw: oracle, groupSizes: energies.groupSizes, macsPerChannel: energies.macsPerChannel)
            #expect(order(energies.normalized(normalization)) == order(oracleEnergies.normalized(normalization)), "\(normalization.rawValue)")
        }
    }

    @Test func lampAndMeanPerMAC() {
        let energies = Energies(criterion: .outIn, raw: [[1, 3], [2, 2, 8], [0, 0]], groupSizes: [10, 4, 3], macsPerChannel: [100, 400, 50])
        let lamp = energies.normalized(.lamp)
        #expect(lamp[0] == [0.25, 1])
        // Ascending with ties by index: 2 / (2+2+8), 2 / (2+8), 8 / 8.
        #expect(lamp[1] == [2.0 / 12, 0.2, 1])
        #expect(lamp[2] == [0, 0])
        // Mean MACs per channel: (2·100 + 3·400 + 2·50) / 7.
        let meanMACs = 1500.0 / 7
        let perMAC = energies.normalized(.meanPerMAC)
        #expect(zip(perMAC[0], [0.5, 1.5]).allSatisfy { abs($0 - $1 / (100 / meanMACs)) < 1e-12 })
        #expect(zip(perMAC[1], [0.5, 0.5, 2]).allSatisfy { abs($0 - $1 / (400 / meanMACs)) < 1e-12 })
        #expect(perMAC[2] == [0, 0])
    }

    @Test func macsPerChannelAreTheWalksSavings() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 1)
        let groups = try ChannelGroups(architecture: model.architecture)
        let energies = Energies(model: model, groups: groups, criterion: .outIn)
        // conv1's channel: its own 3x3 filter over 28x28 and conv2's 32 filters' slice of it.
        #expect(energies.macsPerChannel[0] == 9 * 784 + 32 * 9 * 784)
        // conv5's channel: its filter over 7x7, and one column of the classifier.
        #expect(energies.macsPerChannel[4] == 64 * 9 * 49 + 10)
    }
}

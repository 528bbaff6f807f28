// How a pass walks the model's layers: one step per layer, or one step for a chain of layers
// fused into fewer passes over memory. Built once per model from the resolved graph; the
// layer-kind rules are untouched (a chain is recognised from the operations they made).
//
// A chain is a BatchNorm, then optionally a residual sum that reads it (and one other
// activation) and a ReLU that reads that, each layer read by nothing but the next, so the
// activations between them need not exist:
// - training: y = act(BN(x) [+ r]) in one pass once the statistics are known (gathered in
//   one pass too), and the backward recomputes BN's normalised input from x instead of
//   storing it; the residual's gradient comes out of the same pass as the statistics;
// - inference: when a convolution (GEMM path) is all that reads into the BatchNorm, the
//   whole of conv → BN → add → ReLU is the convolution with an epilogue that applies the
//   BatchNorm's affine map, the residual and the ReLU to each chunk of output rows while it
//   is in cache. Eval-mode BatchNorm is an affine map per channel, x·scale + shift; applying
//   it to the output is folding it into the weights without keeping folded weights that a
//   training step or a checkpoint load would make stale.
// Masked models (outputMasks) and `fusesLayers = false` run the layer-by-layer plan, which is
// also the oracle the fused plans are tested against.

struct ModelPlan {
    enum Kind { case layers, training, inference }

    struct Chain {
        /// Inference only: the convolution whose output the BatchNorm reads, run with the
        /// chain as its epilogue.
        var convolution: Int?
        var batchNorm: Int
        var add: Int?
        /// The add's other input (−1: the image).
        var residual: Int?
        var relu: Int?
    }

    enum Work {
        case layer(Int)
        case chain(Chain)
    }

    struct Step {
        var work: Work
        /// The node whose output the step writes (the last of a chain).
        var last: Int
        /// Nodes whose gradients the backward pass reaches, in the order it writes them.
        var producers: [Int]
        /// Per producer: whether this step is the first to reach its gradient, so writes it.
        var overwrite: [Bool] = []
        /// Whether nothing back-propagates into the step's output (so it is zeroed first).
        var zeroesGradient = false
    }

    let kind: Kind
    let steps: [Step]

    init(_ kind: Kind, nodes: [Node], consumers: [[Int]]) {
        self.kind = kind
        var chainEnding: [Int: Chain] = [:]
        var covered = Set<Int>()
        if kind != .layers {
            for (i, node) in nodes.enumerated() where node.op is BatchNorm2dOp {
                var chain = Chain(batchNorm: i)
                var last = i
                if consumers[i].count == 1, let a = consumers[i].first, nodes[a].op is AddOp, !covered.contains(a),
                   nodes[a].producers.count == 2, nodes[a].producers.filter({ $0 == i }).count == 1 {
                    chain.add = a
                    chain.residual = nodes[a].producers.first { $0 != i }
                    last = a
                }
                if consumers[last].count == 1, let r = consumers[last].first, nodes[r].op is ReLUOp {
                    chain.relu = r
                    last = r
                }
                if kind == .inference, let p = node.producers.first, p >= 0, consumers[p] == [i],
                   let convolution = nodes[p].op as? Conv2dOp, convolution.runsEpilogueByChunk {
                    chain.convolution = p
                }
                let members = [chain.convolution, i, chain.add, chain.relu].compactMap { $0 }
                covered.formUnion(members)
                chainEnding[last] = chain
            }
        }
        var steps: [Step] = []
        for (i, node) in nodes.enumerated() {
            if let chain = chainEnding[i] {
                let producers = [chain.residual].compactMap { $0 } + [nodes[chain.batchNorm].producers[0]]
                steps.append(Step(work: .chain(chain), last: i, producers: producers))
            } else if !covered.contains(i) {
                steps.append(Step(work: .layer(i), last: i, producers: node.producers))
            }
        }
        // Walk the backward order once: the first step to reach a gradient writes it.
        var reached: Set = [nodes.count - 1]
        for s in steps.indices.reversed() where nodes[steps[s].last].gradient != nil {
            steps[s].zeroesGradient = reached.insert(steps[s].last).inserted
            steps[s].overwrite = steps[s].producers.map { $0 >= 0 && nodes[$0].gradient != nil && reached.insert($0).inserted }
        }
        self.steps = steps
    }
}

// Masks for inverted dropout and stochastic depth (Srivastava et al. 2014; Huang et al. 2016,
// as torchvision's StochasticDepth in mode "row"). A kept unit is scaled by 1/(1 − p) in
// training, so evaluation is the identity. Masks are drawn serially from the layer's own
// generator: the same seed gives the same masks whatever the worker count.

enum DropoutKernels {
    /// Fills `scales` with 1/(1 − p) (kept, probability 1 − p) or 0 (dropped, probability p).
    static func drawScales(_ scales: UnsafeMutablePointer<Float>, count: Int, dropProbability p: Float,
                           generator: inout SeededGenerator) {
        let kept = 1 / (1 - p)
        for i in 0..<count { scales[i] = generator.nextUniform() < p ? 0 : kept }
    }
}

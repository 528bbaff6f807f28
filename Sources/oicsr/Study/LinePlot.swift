import Foundation

/// A small line chart written as SVG: accuracy against share removed, one series per
/// regularizer. SVG needs no image library and renders wherever the docs are read.
struct LinePlot {
    struct Series {
        var label: String
        var color: String
        var dashed: Bool
        var points: [(x: Double, y: Double)]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var xRange: ClosedRange<Double>
    var yRange: ClosedRange<Double>
    var series: [Series]

    func svg(width: Int = 720, height: Int = 440) -> String {
        let (left, right, top, bottom) = (70.0, 190.0, 40.0, 50.0)
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        func px(_ x: Double) -> Double { left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)) * plotHeight }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="DejaVu Sans, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(left + plotWidth / 2))" y="22" text-anchor="middle" font-size="14">\(title)</text>

            """
        for i in 0...10 {
            let y = yRange.lowerBound + Double(i) / 10 * (yRange.upperBound - yRange.lowerBound)
            out += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(py(y)))\" stroke=\"#e4e4e4\"/>\n"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(String(format: "%.0f", y))</text>\n"
        }
        for i in 0...7 {
            let x = xRange.lowerBound + Double(i) / 7 * (xRange.upperBound - xRange.lowerBound)
            out += "<text x=\"\(f(px(x)))\" y=\"\(f(top + plotHeight + 18))\" text-anchor=\"middle\">\(String(format: "%.0f", x))</text>\n"
        }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#444\"/>\n"
        out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(Double(height) - 12))\" text-anchor=\"middle\">\(xLabel)</text>\n"
        out += "<text transform=\"translate(18 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(yLabel)</text>\n"
        for (i, s) in series.enumerated() {
            let path = s.points.map { "\(f(px($0.x))),\(f(py(min(max($0.y, yRange.lowerBound), yRange.upperBound))))" }.joined(separator: " ")
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"\(dash)/>\n"
            for p in s.points {
                out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(min(max(p.y, yRange.lowerBound), yRange.upperBound))))\" r=\"3\" fill=\"\(s.color)\"/>\n"
            }
            let ly = top + 10 + Double(i) * 20
            out += "<line x1=\"\(f(left + plotWidth + 14))\" y1=\"\(f(ly))\" x2=\"\(f(left + plotWidth + 40))\" y2=\"\(f(ly))\" stroke=\"\(s.color)\" stroke-width=\"2\"\(dash)/>\n"
            out += "<text x=\"\(f(left + plotWidth + 46))\" y=\"\(f(ly + 4))\">\(s.label)</text>\n"
        }
        return out + "</svg>\n"
    }
}

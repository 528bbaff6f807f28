// Short, fixed-style renderings of numbers for status lines and progress bars. Kept free of
// Foundation's locale-dependent formatters so that golden screens are the same everywhere.

public enum Format {
    /// A duration in seconds as "42s", "1m05s" or "2h03m"; "--" when unknown (NaN, infinite
    /// or negative). Rounded down to whole seconds, except that 0 < s < 1 reads "<1s".
    public static func duration(seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        if seconds > 0, seconds < 1 { return "<1s" }
        let total = Int(seconds)
        let hours = total / 3600, minutes = (total % 3600) / 60, secs = total % 60
        if hours > 0 { return "\(hours)h" + twoDigits(minutes) + "m" }
        if minutes > 0 { return "\(minutes)m" + twoDigits(secs) + "s" }
        return "\(secs)s"
    }

    /// A rate in `unit`s per second: "583 img/s", "5.8 img/s", "12.3k img/s"; "--" when unknown.
    public static func rate(_ perSecond: Double, unit: String) -> String {
        guard perSecond.isFinite, perSecond >= 0 else { return "-- \(unit)/s" }
        let number = perSecond >= 10_000 ? compact(perSecond)
            : perSecond >= 10 ? String(Int(perSecond.rounded()))
            : fixed(perSecond, decimals: 1)
        return "\(number) \(unit)/s"
    }

    /// A share (0…1) as a percentage: "42%", or "42.5%" with one decimal.
    public static func percent(_ share: Double, decimals: Int = 0) -> String {
        guard share.isFinite else { return "--%" }
        return fixed(share * 100, decimals: decimals) + "%"
    }

    /// A count with an SI suffix and three significant digits at most: 980, "140k", "21.9M",
    /// "4.09G". Used for FLOPs (multiply-accumulates) and parameter counts.
    public static func compact(_ value: Double) -> String {
        guard value.isFinite else { return "--" }
        let magnitude = abs(value)
        let suffixes: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        for (scale, suffix) in suffixes where magnitude >= scale * 0.9995 {
            let scaled = value / scale
            let decimals = abs(scaled) >= 99.95 ? 0 : abs(scaled) >= 9.995 ? 1 : 2
            return fixed(scaled, decimals: decimals) + suffix
        }
        return String(Int(value.rounded()))
    }

    /// `value` with exactly `decimals` digits after the point, rounded half away from zero.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "--" }
        guard decimals > 0 else { return String(Int(value.rounded())) }
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((abs(value) * Double(scale)).rounded())
        let whole = scaled / scale, fraction = String(scaled % scale)
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return sign + "\(whole)." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    private static func twoDigits(_ n: Int) -> String {
        n < 10 ? "0\(n)" : "\(n)"
    }
}

import Canvas
// Number formats of the explorer's panels, beside the widgets' own (Format.swift): signed
// changes, energies that span orders of magnitude, and milliseconds.

extension Format {
    /// A relative change from `before` to `after` as a signed percentage, "-30.4%", "+2.1%";
    /// "0%" when equal, "--" without a base.
    public static func change(from before: Double, to after: Double) -> String {
        guard before != 0, before.isFinite, after.isFinite else { return "--" }
        let share = (after - before) / before
        if abs(share) < 0.0005 { return "0%" }
        return (share > 0 ? "+" : "") + fixed(share * 100, decimals: 1) + "%"
    }

    /// A difference of two shares in percentage points, "-7.2 pt", "+0.4 pt".
    public static func points(from before: Double, to after: Double) -> String {
        let difference = (after - before) * 100
        guard difference.isFinite else { return "--" }
        if abs(difference) < 0.05 { return "0 pt" }
        return (difference > 0 ? "+" : "") + fixed(difference, decimals: 1) + " pt"
    }

    /// A difference of two plain numbers with `decimals` digits, signed: "+0.207".
    public static func difference(from before: Double, to after: Double, decimals: Int) -> String {
        let difference = after - before
        guard difference.isFinite else { return "--" }
        let text = fixed(difference, decimals: decimals)
        return difference > 0 && text.contains(where: { $0 != "0" && $0 != "." }) ? "+" + text : text
    }

    /// At most three significant digits, trailing zeros dropped, in plain notation between
    /// 0.01 and 10 000 ("0.985", "0.05") and as "1.24e-3" or "5e-4" outside it: energies
    /// range over many orders of magnitude.
    public static func significant(_ value: Double) -> String {
        guard value.isFinite else { return "--" }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 0.01 && magnitude < 10_000 {
            let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : magnitude >= 0.1 ? 3 : 4
            return withoutTrailingZeros(fixed(value, decimals: decimals))
        }
        var exponent = 0
        var mantissa = magnitude
        while mantissa >= 10 { mantissa /= 10; exponent += 1 }
        while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        if fixed(mantissa, decimals: 2) == "10.00" { mantissa /= 10; exponent += 1 }
        return (value < 0 ? "-" : "") + withoutTrailingZeros(fixed(mantissa, decimals: 2)) + "e" + String(exponent)
    }

    /// "0.500" → "0.5", "1.00" → "1"; whole numbers are left alone.
    private static func withoutTrailingZeros(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var result = Substring(text)
        while result.last == "0" { result = result.dropLast() }
        if result.last == "." { result = result.dropLast() }
        return String(result)
    }

    /// Milliseconds with three significant digits: "0.412 ms", "12.3 ms".
    public static func milliseconds(_ value: Double) -> String {
        guard value.isFinite else { return "-- ms" }
        let decimals = value >= 100 ? 0 : value >= 10 ? 1 : value >= 1 ? 2 : 3
        return fixed(value, decimals: decimals) + " ms"
    }
}

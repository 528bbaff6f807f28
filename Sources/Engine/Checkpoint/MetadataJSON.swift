import Foundation

/// JSON in checkpoint metadata. Non-finite numbers (a diverged loss) are written as the
/// strings "NaN", "Infinity" and "-Infinity" and read back as numbers.
public enum MetadataJSON {
    public static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        // Strings, numbers (non-finite ones as strings), booleans and containers of them
        // always encode.
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String) -> T? {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try? decoder.decode(T.self, from: Data(text.utf8))
    }
}

/// A 1-based line and column in the text of an EQL query. Columns count
/// Unicode scalars, so a multi-byte character advances the column by one.
public struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String {
        "line \(line), column \(column)"
    }
}

/// An EQL query that the engine rejects, with the position of the offending
/// token. This covers syntax errors and also valid EQL that the engine cannot
/// evaluate (sequences, pipes, unknown fields or functions), because a query
/// is either applied completely or not at all.
public struct EQLSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public let position: SourcePosition
    public let message: String
    /// True for valid EQL that the engine or the sensor cannot evaluate
    /// (sequences, pipes, fields the sensor does not supply, cidrMatch),
    /// false for a query that is not valid EQL.
    public let isUnsupported: Bool

    public init(_ message: String, at position: SourcePosition, isUnsupported: Bool = false) {
        self.message = message
        self.position = position
        self.isUnsupported = isUnsupported
    }

    public var line: Int { position.line }
    public var column: Int { position.column }

    public var description: String {
        "\(position): \(message)"
    }
}

/// The set of field names a rule may read without the `?` prefix. A rule that
/// names a plain field outside the catalog fails to compile, and a `?field`
/// outside it is treated as a field with no values.
public struct FieldCatalog: Sendable {
    /// The allowed names, or nil when every name is allowed.
    private let names: Set<String>?

    /// The fields the exec sensor supplies: the raw values of `ExecField`.
    public static let sensor = FieldCatalog(fieldNames: ExecField.allCases.map(\.rawValue))

    /// Allows every field name, for evaluating ECS JSON documents.
    public static let any = FieldCatalog(names: nil)

    public init(fieldNames: some Sequence<String>) {
        self.names = Set(fieldNames)
    }

    private init(names: Set<String>?) {
        self.names = names
    }

    public func contains(_ name: String) -> Bool {
        names?.contains(name) ?? true
    }
}

/// A single-event EQL query compiled for evaluation. Evaluation follows
/// Elasticsearch: a field is the set of its values (arrays flattened, null
/// and `[]` give none) and a comparison is true when any value satisfies
/// it, while `not`, `!=` and `not in` are true when no value does.
public struct CompiledQuery: Sendable {
    /// The query text as written.
    public let text: String
    /// The category before `where`, or nil for `any`.
    public let eventCategory: String?
    /// The fields the query reads, in order of first use, including
    /// `event.category` when the query names a category.
    public let fields: [FieldReference]

    let condition: CompiledCondition
    /// Keeps alive the string constants `condition` points to.
    let constants: ConstantStorage

    /// Parses and compiles `text`. A plain field outside `catalog` is an
    /// error, and a `?field` outside it has no values.
    public init(_ text: String, catalog: FieldCatalog) throws(EQLSyntaxError) {
        let query = try EQLParser.parse(text)
        var compiler = EQLCompiler(catalog: catalog)
        self.condition = try compiler.compile(query)
        self.text = text
        self.eventCategory = query.eventCategory
        self.fields = compiler.fields
        self.constants = compiler.constants
    }

    /// Evaluates the query on one event. It allocates nothing, except for
    /// the rare double-valued fields that a string test renders as text.
    public func evaluate<Source: FieldSource>(_ source: Source) -> Verdict {
        Verdict(condition.evaluate(source))
    }
}

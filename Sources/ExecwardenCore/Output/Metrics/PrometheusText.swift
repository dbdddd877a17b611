/// One metric family of the Prometheus text exposition format, version
/// 0.0.4: a name, help text, a type and samples that differ by label.
public struct MetricFamily: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case counter, gauge
    }

    public struct Sample: Sendable, Equatable {
        public var labels: [(name: String, value: String)]
        public var value: Double

        public init(labels: [(name: String, value: String)] = [], value: Double) {
            self.labels = labels
            self.value = value
        }

        public static func == (left: Sample, right: Sample) -> Bool {
            left.value == right.value
                && left.labels.elementsEqual(right.labels) { $0.name == $1.name && $0.value == $1.value }
        }
    }

    public var name: String
    public var help: String
    public var kind: Kind
    public var samples: [Sample]

    public init(name: String, help: String, kind: Kind, samples: [Sample]) {
        self.name = name
        self.help = help
        self.kind = kind
        self.samples = samples
    }

    /// Creates a family with one unlabelled sample.
    public init(name: String, help: String, kind: Kind, value: UInt64) {
        self.init(name: name, help: help, kind: kind, samples: [Sample(value: Double(value))])
    }
}

/// Renders metric families in the Prometheus text format.
public enum PrometheusText {
    public static func render(_ families: [MetricFamily]) -> String {
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            text += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                text += family.name
                if !sample.labels.isEmpty {
                    let pairs = sample.labels.map { "\($0.name)=\"\(escapeLabel($0.value))\"" }
                    text += "{" + pairs.joined(separator: ",") + "}"
                }
                text += " \(format(sample.value))\n"
            }
        }
        return text
    }

    /// Writes whole numbers without a fraction, as counters usually are.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return "\(value)"
    }

    /// Escapes a label value: backslash, double quote and line feed.
    static func escapeLabel(_ value: String) -> String {
        escape(value, quotes: true)
    }

    /// Escapes help text: backslash and line feed.
    static func escapeHelp(_ value: String) -> String {
        escape(value, quotes: false)
    }

    private static func escape(_ value: String, quotes: Bool) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"" where quotes: escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

import Foundation

/// The plot's geometry, in SVG user units.
private enum Layout {
    static let panelWidth = 420.0
    static let panelHeight = 280.0
    static let left = 70.0
    static let top = 50.0
    static let gap = 90.0
}

private let subjectColors: [SubjectKind: String] = [
    .none: "#444444", .control: "#1f77b4", .rules: "#2ca02c",
    .events: "#d62728", .execsnoop: "#9467bd", .bpftrace: "#ff7f0e",
]

/// Draws an SVG with two panels against the worker count: median execs/s,
/// and median sensor CPU seconds per thousand execs.
func plotSVG(_ summaries: [Summary], subjects: [SubjectKind], workerCounts: [Int], title: String) -> String {
    let width = Int(Layout.left * 2 + Layout.panelWidth * 2 + Layout.gap + 40)
    let height = Int(Layout.top + Layout.panelHeight + 110)
    var svg = [
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"12\">",
        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
        "<text x=\"\(Layout.left)\" y=\"22\" font-size=\"14\">\(escapeXML(title))</text>",
    ]
    let panels: [(title: String, value: (Summary) -> Double?)] = [
        ("execs per second (median)", { $0.execsPerSecondMedian }),
        ("sensor CPU s per 1000 execs (median)", { $0.cpuSecondsPerThousandExecsMedian }),
    ]
    for (index, panel) in panels.enumerated() {
        let x0 = Layout.left + Double(index) * (Layout.panelWidth + Layout.gap)
        svg += drawPanel(
            title: panel.title, value: panel.value, x0: x0, summaries: summaries,
            subjects: subjects, workers: workerCounts.sorted())
    }
    for (index, subject) in subjects.enumerated() {
        let x = Layout.left + Double(index) * 120
        let y = Layout.top + Layout.panelHeight + 60
        svg.append("<rect x=\"\(x)\" y=\"\(y - 10)\" width=\"12\" height=\"12\" fill=\"\(subjectColors[subject] ?? "black")\"/>")
        svg.append("<text x=\"\(x + 16)\" y=\"\(y)\">\(subject.rawValue)</text>")
    }
    svg.append("</svg>")
    return svg.joined(separator: "\n") + "\n"
}

/// Draws one panel: frame, axes and one line per subject, the worker
/// counts evenly spaced on the x axis.
private func drawPanel(
    title: String, value: (Summary) -> Double?, x0: Double, summaries: [Summary],
    subjects: [SubjectKind], workers: [Int]
) -> [String] {
    let top = Layout.top, width = Layout.panelWidth, height = Layout.panelHeight
    let maxValue = max(summaries.compactMap(value).max() ?? 1, 1e-9) * 1.1
    var svg = [
        "<text x=\"\(x0)\" y=\"\(top - 10)\">\(title)</text>",
        "<rect x=\"\(x0)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#999\"/>",
    ]
    for step in 0...4 {
        let y = top + height - height * Double(step) / 4
        svg.append("<line x1=\"\(x0 - 4)\" y1=\"\(y)\" x2=\"\(x0)\" y2=\"\(y)\" stroke=\"#999\"/>")
        svg.append("<text x=\"\(x0 - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(axisLabel(maxValue * Double(step) / 4))</text>")
    }
    func xPosition(_ worker: Int) -> Double {
        guard let index = workers.firstIndex(of: worker) else { return x0 }
        if workers.count == 1 { return x0 + width / 2 }
        return x0 + 20 + (width - 40) * Double(index) / Double(workers.count - 1)
    }
    for worker in workers {
        svg.append("<text x=\"\(xPosition(worker))\" y=\"\(top + height + 16)\" text-anchor=\"middle\">\(worker)</text>")
    }
    svg.append("<text x=\"\(x0 + width / 2)\" y=\"\(top + height + 32)\" text-anchor=\"middle\">workers</text>")
    for subject in subjects {
        let points = summaries.filter { $0.subject == subject }.compactMap { summary -> (Double, Double)? in
            guard let point = value(summary) else { return nil }
            return (xPosition(summary.workers), top + height - height * point / maxValue)
        }
        guard !points.isEmpty else { continue }
        let color = subjectColors[subject] ?? "black"
        let list = points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
        svg.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(list)\"/>")
        for (x, y) in points {
            svg.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>", x, y, color))
        }
    }
    return svg
}

private func axisLabel(_ value: Double) -> String {
    if value == 0 { return "0" }
    if value >= 1000 { return String(format: "%.0f", value) }
    if value >= 1 { return String(format: "%.1f", value) }
    return String(format: "%.3f", value)
}

private func escapeXML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;")
}

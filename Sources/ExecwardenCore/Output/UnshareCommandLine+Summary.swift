extension UnshareCommandLine {
    /// A one-line description for an analyst, such as "new user + mount
    /// namespace, mapped root, fork". Bytes that are not UTF-8 appear as
    /// U+FFFD.
    public var summary: String {
        var parts: [String]
        switch outcome {
        case .run:
            parts = runSummary
        case .help:
            parts = ["prints help, unshares nothing"]
        case .version:
            parts = ["prints its version, unshares nothing"]
        case .invalid(let message):
            parts = ["invalid command line, unshares nothing: \(message)"]
        }
        if !isComplete {
            parts.append("argv not captured whole, parse incomplete")
        }
        return parts.joined(separator: ", ")
    }

    private var runSummary: [String] {
        let names = namespaces.map(\.displayName)
        var parts = [names.isEmpty ? "no new namespace" : "new " + names.joined(separator: " + ") + " namespace"]
        parts += mappingSummary
        for namespace in Namespace.allCases {
            if let file = persistentNamespaceFiles[namespace] {
                parts.append("\(namespace.displayName) namespace bound to \(Self.text(file))")
            }
        }
        if fork {
            parts.append(killChildSignal.map { "fork, kill child with \(Self.text($0))" } ?? "fork")
        }
        let settings: [(String, [UInt8]?)] = [
            ("proc mounted at", mountProc), ("binfmt_misc mounted at", mountBinfmt),
            ("binfmt interpreter", loadInterpreter), ("propagation", propagation),
            ("setgroups", setgroups), ("root directory", root), ("working directory", workingDirectory),
            ("setuid", setUID), ("setgid", setGID), ("monotonic offset", monotonicOffset),
            ("boottime offset", boottimeOffset), ("environment kept", keptEnvironment),
        ]
        for (label, value) in settings {
            if let value {
                parts.append("\(label) \(Self.text(value))")
            }
        }
        if keepCapabilities {
            parts.append("capabilities kept")
        }
        if clearEnvironment {
            parts.append("environment cleared")
        }
        return parts
    }

    private var mappingSummary: [String] {
        var parts: [String] = []
        if mapsRootUser {
            parts.append("mapped root")
        } else if let mapUser {
            parts.append("mapped user \(Self.text(mapUser))")
        }
        let groupRepeatsUser = mapGroup == mapUser || (mapsRootUser && mapGroup == Array("0".utf8))
        if let mapGroup, !groupRepeatsUser {
            parts.append("mapped group \(Self.text(mapGroup))")
        }
        if !mapUsers.isEmpty {
            parts.append("mapped uid ranges " + mapUsers.map(Self.text).joined(separator: " "))
        }
        if !mapGroups.isEmpty {
            parts.append("mapped gid ranges " + mapGroups.map(Self.text).joined(separator: " "))
        }
        if let owner {
            parts.append("owner \(Self.text(owner))")
        }
        return parts
    }

    private static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

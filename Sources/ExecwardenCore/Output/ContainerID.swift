/// A container id read from the name of a process's leaf cgroup.
///
/// Recognized names, where ID is 64 lowercase hexadecimal digits:
///
/// | Leaf cgroup name              | Runtime      |
/// |-------------------------------|--------------|
/// | `docker-ID.scope`             | `docker`     |
/// | `cri-containerd-ID.scope`     | `containerd` |
/// | `crio-ID.scope`               | `cri-o`      |
/// | `libpod-ID.scope`             | `podman`     |
/// | `ID`                          | unknown      |
///
/// The `.scope` names come from the systemd cgroup driver. A bare ID is
/// what the cgroupfs driver of Docker and of Kubernetes runtimes creates,
/// so its runtime is not known. Monitor processes such as
/// `crio-conmon-ID.scope` and `libpod-conmon-ID.scope` are not containers
/// and do not match.
///
/// NOTE: A process in a cgroup that the container created below its own
/// (systemd inside a container, for example) has a leaf name that matches
/// none of these, so it gets no container id.
public struct ContainerID: Equatable, Sendable {
    /// The 64 hexadecimal digits.
    public var id: String
    /// The ECS `container.runtime` value, nil for a bare id.
    public var runtime: String?

    /// Returns the container id in a leaf cgroup name, or nil when the
    /// name matches no known form.
    public init?(cgroupLeafName name: [UInt8]) {
        if Self.isHexIdentifier(name[...]) {
            id = String(decoding: name, as: UTF8.self)
            runtime = nil
            return
        }
        for (prefix, runtime) in Self.scopePrefixes {
            if let digits = Self.identifier(in: name, prefix: prefix) {
                id = String(decoding: digits, as: UTF8.self)
                self.runtime = runtime
                return
            }
        }
        return nil
    }

    private static let scopePrefixes: [(prefix: [UInt8], runtime: String)] = [
        (Array("docker-".utf8), "docker"),
        (Array("cri-containerd-".utf8), "containerd"),
        (Array("crio-".utf8), "cri-o"),
        (Array("libpod-".utf8), "podman"),
    ]
    private static let scopeSuffix = Array(".scope".utf8)
    private static let identifierLength = 64

    private static func identifier(in name: [UInt8], prefix: [UInt8]) -> ArraySlice<UInt8>? {
        guard name.count == prefix.count + identifierLength + scopeSuffix.count,
              name.starts(with: prefix),
              name.suffix(scopeSuffix.count).elementsEqual(scopeSuffix)
        else { return nil }
        let digits = name[prefix.count..<prefix.count + identifierLength]
        return isHexIdentifier(digits) ? digits : nil
    }

    private static func isHexIdentifier(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.count == identifierLength && bytes.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
        }
    }
}

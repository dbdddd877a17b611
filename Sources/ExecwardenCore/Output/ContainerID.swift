/// A container id found in a process's cgroup path.
///
/// The path is read from the leaf towards the root, and the first
/// component of one of these forms names the container (ID is 64
/// lowercase hexadecimal digits):
///
/// | Component                  | Runtime      | Created by                          |
/// |----------------------------|--------------|-------------------------------------|
/// | `docker-ID.scope`          | `docker`     | Docker, systemd cgroup driver       |
/// | `ID` below `docker`        | `docker`     | Docker, cgroupfs driver (`/docker/ID`) |
/// | `cri-containerd-ID.scope`  | `containerd` | containerd's CRI plugin, systemd driver |
/// | `nerdctl-ID.scope`         | `containerd` | nerdctl, systemd driver             |
/// | `crio-ID.scope`, `crio-ID` | `cri-o`      | CRI-O, systemd and cgroupfs drivers |
/// | `libpod-ID.scope`, `libpod-ID` | `podman` | Podman, systemd and cgroupfs managers |
/// | any other `ID`             | unknown      | Kubernetes runtimes with the cgroupfs driver (`/kubepods/QOS/podUID/ID`) |
///
/// Cgroup v1 hierarchies and the unified v2 hierarchy use the same names,
/// so one parser serves both. Reading from the leaf finds the container
/// also when its payload sits in a child cgroup (`/docker/ID/init.scope`,
/// Podman's `libpod-ID.scope/container`, systemd running inside the
/// container), and finds the inner container of nested ones
/// (`/docker/OUTER/docker/INNER`). The monitor processes in
/// `crio-conmon-ID.scope` and `libpod-conmon-ID.scope` are not in the
/// container and get no id.
///
/// NOTE: The path must run from the root of the hierarchy. A path
/// relative to a cgroup namespace, as a containerized process reads in its
/// own /proc/self/cgroup, may stop below the container's cgroup and then
/// names no container.
public struct ContainerID: Equatable, Sendable {
    /// The 64 hexadecimal digits.
    public var id: String
    /// The ECS `container.runtime` value, nil when the path does not tell.
    public var runtime: String?

    public init(id: String, runtime: String?) {
        self.id = id
        self.runtime = runtime
    }

    /// Finds the container id in a cgroup path such as
    /// `/system.slice/docker-ID.scope`, or returns nil when no component
    /// has a known form. A path without a slash is one component, so a
    /// leaf cgroup name works too.
    public init?<Path: Collection>(cgroupPath path: Path) where Path.Element == UInt8 {
        // Slices of the path, so no component bytes are copied unless one
        // matches.
        let components = path.split(separator: UInt8(ascii: "/"))
        for index in components.indices.reversed() {
            let parent = index > components.startIndex ? components[index - 1] : nil
            if let found = Self.match(components[index], parent: parent) {
                self = found
                return
            }
        }
        return nil
    }

    /// Returns the container that one path component names.
    private static func match<Name: Collection>(_ component: Name, parent: Name?) -> ContainerID?
    where Name.Element == UInt8 {
        if isHexIdentifier(component) {
            let runtime = parent.map { $0.elementsEqual("docker".utf8) } == true ? "docker" : nil
            return ContainerID(id: String(decoding: component, as: UTF8.self), runtime: runtime)
        }
        for form in prefixedForms {
            if let digits = identifier(in: component, prefix: form.prefix, allowsBareName: form.allowsBareName) {
                return ContainerID(id: String(decoding: digits, as: UTF8.self), runtime: form.runtime)
            }
        }
        return nil
    }

    /// Prefixes of container cgroup names, each followed by the id and
    /// `.scope`, or by the id alone where the runtime's cgroupfs driver
    /// names cgroups that way.
    private static let prefixedForms: [(prefix: [UInt8], runtime: String, allowsBareName: Bool)] = [
        (Array("docker-".utf8), "docker", false),
        (Array("cri-containerd-".utf8), "containerd", false),
        (Array("nerdctl-".utf8), "containerd", false),
        (Array("crio-".utf8), "cri-o", true),
        (Array("libpod-".utf8), "podman", true),
    ]
    private static let scopeSuffix = Array(".scope".utf8)
    private static let identifierLength = 64

    private static func identifier<Name: Collection>(in name: Name, prefix: [UInt8], allowsBareName: Bool)
        -> Name.SubSequence? where Name.Element == UInt8 {
        guard name.starts(with: prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        let digits: Name.SubSequence
        if rest.count == identifierLength + scopeSuffix.count && rest.suffix(scopeSuffix.count).elementsEqual(scopeSuffix) {
            digits = rest.prefix(identifierLength)
        } else if allowsBareName && rest.count == identifierLength {
            digits = rest
        } else {
            return nil
        }
        return isHexIdentifier(digits) ? digits : nil
    }

    private static func isHexIdentifier<Name: Collection>(_ bytes: Name) -> Bool where Name.Element == UInt8 {
        bytes.count == identifierLength && bytes.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
        }
    }
}

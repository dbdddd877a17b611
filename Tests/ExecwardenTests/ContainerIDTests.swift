import Testing
@testable import ExecwardenCore

/// Two distinct ids, so a test can tell which of two nested containers
/// was found.
private let innerID = String(repeating: "0123456789abcdef", count: 4)
private let outerID = String(repeating: "fedcba9876543210", count: 4)
private let podUID = "0f2c9a7e-5b61-4c1d-9d3e-2b7a8c4e6f10"
private let podSlice = "kubepods-besteffort-pod0f2c9a7e_5b61_4c1d_9d3e_2b7a8c4e6f10.slice"

private func parse(_ path: String) -> ContainerID? {
    ContainerID(cgroupPath: Array(path.utf8))
}

@Suite("Container id from a cgroup path")
struct ContainerIDTests {
    @Test("container paths give id and runtime", arguments: [
        // Docker, cgroupfs driver (v1 hierarchies and v2).
        ("/docker/\(innerID)", "docker"),
        ("/docker/\(innerID)/init.scope", "docker"),
        ("/docker/\(innerID)/system.slice/cron.service", "docker"),
        // Docker, systemd driver.
        ("/system.slice/docker-\(innerID).scope", "docker"),
        ("/system.slice/docker-\(innerID).scope/init.scope", "docker"),
        // Rootless Docker under the user's systemd.
        ("/user.slice/user-1000.slice/user@1000.service/docker-\(innerID).scope", "docker"),
        // Kubernetes with containerd, systemd driver.
        ("/kubepods.slice/kubepods-besteffort.slice/\(podSlice)/cri-containerd-\(innerID).scope", "containerd"),
        ("/kubepods.slice/\(podSlice)/cri-containerd-\(innerID).scope", "containerd"),
        // nerdctl, systemd driver.
        ("/system.slice/nerdctl-\(innerID).scope", "containerd"),
        // CRI-O, systemd and cgroupfs drivers.
        ("/kubepods.slice/kubepods-burstable.slice/\(podSlice)/crio-\(innerID).scope", "cri-o"),
        ("/kubepods/burstable/pod\(podUID)/crio-\(innerID)", "cri-o"),
        ("/kubepods.slice/kubepods-burstable.slice/\(podSlice)/crio-\(innerID).scope/container", "cri-o"),
        // Podman: root, rootless, payload nested, cgroupfs manager.
        ("/machine.slice/libpod-\(innerID).scope", "podman"),
        ("/machine.slice/libpod-\(innerID).scope/container", "podman"),
        ("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(innerID).scope", "podman"),
        ("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(innerID).scope/container", "podman"),
        ("/libpod_parent/libpod-\(innerID)", "podman"),
        // Leaf names alone, as the record carries them today.
        ("docker-\(innerID).scope", "docker"),
        ("cri-containerd-\(innerID).scope", "containerd"),
        ("crio-\(innerID).scope", "cri-o"),
        ("libpod-\(innerID).scope", "podman"),
    ])
    func containers(path: String, runtime: String) {
        let found = parse(path)
        #expect(found?.id == innerID)
        #expect(found?.runtime == runtime)
    }

    @Test("bare ids outside /docker have no runtime", arguments: [
        "/kubepods/besteffort/pod\(podUID)/\(innerID)",
        "/kubepods/pod\(podUID)/\(innerID)",
        "/kubepods/burstable/pod\(podUID)/\(innerID)/child",
        "/default/\(innerID)",
        innerID,
    ])
    func bareIDs(path: String) {
        let found = parse(path)
        #expect(found?.id == innerID)
        #expect(found?.runtime == nil)
    }

    @Test("nested containers give the inner one", arguments: [
        "/docker/\(outerID)/docker/\(innerID)",
        "/system.slice/docker-\(outerID).scope/docker/\(innerID)/init.scope",
        "/machine.slice/libpod-\(outerID).scope/container/system.slice/docker-\(innerID).scope",
    ])
    func nested(path: String) {
        #expect(parse(path)?.id == innerID)
    }

    @Test("paths without a container", arguments: [
        "/",
        "",
        "/init.scope",
        "/user.slice/user-1000.slice/session-3.scope",
        "/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service",
        "/system.slice/ssh.service",
        "/system.slice/docker.service",
        "/system.slice/containerd.service",
        "/kubepods.slice/kubepods-besteffort.slice/\(podSlice)",
        "/kubepods/besteffort/pod\(podUID)",
        // Monitors are not containers.
        "/kubepods.slice/kubepods-burstable.slice/\(podSlice)/crio-conmon-\(innerID).scope",
        "/kubepods/burstable/pod\(podUID)/crio-conmon-\(innerID)",
        "/machine.slice/libpod-conmon-\(innerID).scope",
        "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-\(innerID).scope",
        "/libpod_parent/conmon",
        // Wrong length, case or digits.
        "/docker/\(innerID.dropLast())",
        "/docker/\(innerID)0",
        "/docker/\(innerID.uppercased())",
        "/docker/\(innerID.dropLast())g",
        "/system.slice/docker-\(innerID.dropLast()).scope",
        "/system.slice/docker-\(innerID)0.scope",
        "/system.slice/docker-\(innerID.uppercased()).scope",
        "/system.slice/docker-\(innerID).scope.extra",
        "/system.slice/docker-\(innerID).service",
        // Only CRI-O and Podman name cgroups without `.scope`.
        "/system.slice/docker-\(innerID)",
        "/system.slice/cri-containerd-\(innerID)",
        "/system.slice/other-\(innerID).scope",
        "/\(innerID)-\(innerID)",
    ])
    func notContainers(path: String) {
        #expect(parse(path) == nil)
    }

    @Test("non-hex and non-ASCII bytes are rejected")
    func nonHexBytes() {
        var bytes = Array("/docker/\(innerID)".utf8)
        bytes[bytes.count - 1] = 0xFF
        #expect(ContainerID(cgroupPath: bytes) == nil)
        bytes[bytes.count - 1] = 0
        #expect(ContainerID(cgroupPath: bytes) == nil)
    }

    @Test("repeated and trailing slashes are ignored")
    func slashes() {
        #expect(parse("//system.slice//docker-\(innerID).scope/")?.id == innerID)
        #expect(parse("/docker//\(innerID)")?.runtime == "docker")
    }
}

import Foundation
import Glibc

extension HostInfo {
    /// Reads the host's namespace inodes: those of the init process
    /// (/proc/1/ns), and for each link there that cannot be read, those of
    /// kthreadd (/proc/2/ns). Kernel threads keep the initial namespaces,
    /// and some hosts deny root access to pid 1's links (EACCES) while
    /// kthreadd's stay readable.
    /// Pid 2 counts as kthreadd only when its name is `kthreadd` and its
    /// parent pid is 0, which in a pid namespace other than the initial
    /// one only that namespace's pid 1 has.
    ///
    /// Returns the inodes found and, when some namespace has no source, a
    /// message naming the links that failed and their errors.
    ///
    /// NOTE: Where /proc belongs to a pid namespace other than the
    /// initial one (a sensor in a container without the host's pid
    /// namespace), pid 1 is that namespace's init and the comparison is
    /// with it.
    static func readHostNamespaceInodes(procDirectory: String = "/proc")
        -> (inodes: [NamespaceKind: UInt32], problem: String?) {
        let initProcess = readNamespaceInodes(processDirectory: procDirectory + "/1")
        guard !initProcess.failures.isEmpty else { return (initProcess.inodes, nil) }

        var inodes = initProcess.inodes
        var failures = initProcess.failures
        let kernelThread = procDirectory + "/2"
        if isKernelThreadDaemon(processDirectory: kernelThread) {
            let fallback = readNamespaceInodes(processDirectory: kernelThread)
            inodes.merge(fallback.inodes) { fromInit, _ in fromInit }
            failures += fallback.failures
        }
        let unknown = NamespaceKind.allCases.filter { inodes[$0] == nil }
        guard !unknown.isEmpty else { return (inodes, nil) }
        let problem = "cannot read the host's " + unknown.map(\.name).joined(separator: ", ")
            + " namespace inodes (" + failures.joined(separator: "; ")
            + "), so execwarden.namespace.differs_from_host omits them"
        return (inodes, problem)
    }

    /// Reads the inode number of each namespace link under
    /// `processDirectory`/ns. Returns the inodes read and, for each link
    /// that could not be read, its path and error.
    static func readNamespaceInodes(processDirectory: String)
        -> (inodes: [NamespaceKind: UInt32], failures: [String]) {
        var inodes: [NamespaceKind: UInt32] = [:]
        var failures: [String] = []
        for kind in NamespaceKind.allCases {
            let path = "\(processDirectory)/ns/\(kind.name)"
            var status = stat()
            guard stat(path, &status) == 0 else {
                failures.append("\(path): \(String(cString: strerror(errno)))")
                continue
            }
            inodes[kind] = UInt32(truncatingIfNeeded: status.st_ino)
        }
        return (inodes, failures)
    }

    /// Returns true when the process's `stat` file names `kthreadd` with
    /// parent pid 0.
    static func isKernelThreadDaemon(processDirectory: String) -> Bool {
        guard let text = try? String(contentsOfFile: processDirectory + "/stat", encoding: .utf8),
              let nameStart = text.firstIndex(of: "("),
              let nameEnd = text.lastIndex(of: ")"),
              nameStart < nameEnd
        else { return false }
        let name = text[text.index(after: nameStart)..<nameEnd]
        // After the name come the state and the parent pid.
        let fields = text[text.index(after: nameEnd)...].split(separator: " ")
        return name == "kthreadd" && fields.count > 1 && fields[1] == "0"
    }
}

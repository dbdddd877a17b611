import CExecwarden

/// Raw exec records laid out as the probe sends them, as fuzzing seeds.
enum SeedRecord {
    /// `unshare --uts true` run by a shell: a record the built-in rule
    /// alerts on, with every variable field filled.
    static let unshare: [UInt8] = {
        var builder = Builder()
        builder.header.pid = 4242
        builder.header.tid = 4242
        builder.header.ppid = 4000
        builder.header.args = builder.append(
            ["/usr/bin/unshare", "--uts", "true"].flatMap { Array($0.utf8) + [0] })
        builder.header.argc = 3
        builder.header.executable = builder.append(Array("/usr/bin/unshare".utf8))
        builder.header.parent_executable = builder.append(Array("/usr/bin/bash".utf8))
        builder.header.script = builder.append(Array("./x.sh".utf8))
        builder.header.script_directory = builder.append(Array("/tmp".utf8))
        // Cgroup names go leaf first, each ending in a NUL.
        builder.header.cgroup_path = builder.append(
            ["session-1.scope", "user-0.slice", "user.slice"].flatMap { Array($0.utf8) + [0] })
        builder.header.parent_args = builder.append(
            ["bash", "-c", "unshare --uts true"].flatMap { Array($0.utf8) + [0] })
        builder.header.parent_argc = 3
        withUnsafeMutableBytes(of: &builder.header.comm) { $0.copyBytes(from: "unshare".utf8) }
        withUnsafeMutableBytes(of: &builder.header.parent_comm) { $0.copyBytes(from: "bash".utf8) }
        return builder.bytes()
    }()

    /// A header with no variable fields.
    static let empty: [UInt8] = Builder().bytes()

    private struct Builder {
        var header = ew_exec_record()
        var data: [UInt8] = []

        init() {
            header.version = UInt16(EW_RECORD_VERSION)
            header.header_size = UInt16(MemoryLayout<ew_exec_record>.size)
        }

        mutating func append(_ bytes: [UInt8]) -> ew_span {
            let offset = UInt32(MemoryLayout<ew_exec_record>.size + data.count)
            data.append(contentsOf: bytes)
            return ew_span(offset: offset, length: UInt32(bytes.count))
        }

        func bytes() -> [UInt8] {
            var header = self.header
            header.size = UInt32(MemoryLayout<ew_exec_record>.size + data.count)
            var result = withUnsafeBytes(of: &header) { Array($0) }
            result.append(contentsOf: data)
            return result
        }
    }
}

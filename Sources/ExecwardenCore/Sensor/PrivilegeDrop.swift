import CPrivilege
import Glibc

/// A failed step of dropping privileges.
public struct PrivilegeError: Error, CustomStringConvertible {
    public let operation: String
    public let errorNumber: Int32

    public var description: String {
        errorNumber == 0 ? "cannot \(operation)" : "cannot \(operation): \(errnoText(errorNumber))"
    }
}

/// A user to run as, from the password database.
public struct UserAccount: Sendable, Equatable {
    public let name: String
    public let uid: uid_t
    public let gid: gid_t

    public init(name: String, uid: uid_t, gid: gid_t) {
        self.name = name
        self.uid = uid
        self.gid = gid
    }

    /// Looks up `nameOrID`, a user name or a numeric uid.
    public static func lookup(_ nameOrID: String) throws(PrivilegeError) -> UserAccount {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let status: Int32
        if let uid = uid_t(nameOrID) {
            status = getpwuid_r(uid, &entry, &buffer, buffer.count, &found)
        } else {
            status = getpwnam_r(nameOrID, &entry, &buffer, buffer.count, &found)
        }
        guard status == 0 else {
            throw PrivilegeError(operation: "look up user '\(nameOrID)'", errorNumber: status)
        }
        guard let found else {
            throw PrivilegeError(operation: "find user '\(nameOrID)' in the password database", errorNumber: 0)
        }
        return UserAccount(
            name: String(cString: found.pointee.pw_name), uid: found.pointee.pw_uid,
            gid: found.pointee.pw_gid)
    }
}

/// Gives up every privilege the sensor needs only to start: it is called
/// once the probe is attached and the sinks are open, and from then on the
/// sensor reads the ring and its maps through descriptors it already holds.
///
/// In order, it sets no_new_privs, empties the capability bounding set and
/// the ambient set, switches to `user` when one is given (supplementary
/// groups, then gid, then uid), and empties the effective, permitted and
/// inheritable sets. Capabilities and no_new_privs belong to each thread,
/// so the caller must call it before starting other threads; `verify`
/// checks every thread of the process.
public enum PrivilegeDrop {
    /// Drops privileges; returns notes on what could not be dropped but is
    /// harmless, such as a bounding set kept for lack of CAP_SETPCAP.
    public static func apply(user: UserAccount?) throws(PrivilegeError) -> [String] {
        var notes: [String] = []
        guard ew_set_no_new_privs() == 0 else {
            throw PrivilegeError(operation: "set no_new_privs", errorNumber: errno)
        }
        if let note = dropBoundingSet() {
            notes.append(note)
        }
        if ew_clear_ambient_capabilities() != 0 && errno != EINVAL {
            throw PrivilegeError(operation: "clear the ambient capabilities", errorNumber: errno)
        }
        if let user {
            try switchTo(user)
        }
        guard ew_clear_capabilities() == 0 else {
            throw PrivilegeError(operation: "clear the capability sets", errorNumber: errno)
        }
        return notes
    }

    /// Removes every capability from the bounding set, so that not even an
    /// exec of a file with capabilities could get one back. Returns a note
    /// when the process lacks CAP_SETPCAP, as when it starts with only
    /// CAP_BPF and CAP_PERFMON.
    private static func dropBoundingSet() -> String? {
        for capability in 0..<64 {
            if ew_drop_bounding_capability(Int32(capability)) == 0 { continue }
            if errno == EINVAL { return nil }
            return "capability bounding set kept: \(errnoText(errno)); it matters only to exec, which no_new_privs already restricts"
        }
        return nil
    }

    private static func switchTo(_ user: UserAccount) throws(PrivilegeError) {
        guard initgroups(user.name, user.gid) == 0 else {
            throw PrivilegeError(operation: "set the groups of user \(user.name)", errorNumber: errno)
        }
        guard ew_set_group_ids(user.gid) == 0 else {
            throw PrivilegeError(operation: "switch to gid \(user.gid)", errorNumber: errno)
        }
        guard ew_set_user_ids(user.uid) == 0 else {
            throw PrivilegeError(operation: "switch to user \(user.name) (uid \(user.uid))", errorNumber: errno)
        }
        if user.uid != 0 && ew_set_user_ids(0) == 0 {
            throw PrivilegeError(operation: "give up uid 0: switching back to it still works", errorNumber: 0)
        }
    }

    /// Checks, in /proc/self/task, that every thread has no effective or
    /// permitted capability and has no_new_privs set; throws naming the
    /// first thread that does not.
    public static func verify() throws(PrivilegeError) {
        var tasks: [String] = []
        if let directory = opendir("/proc/self/task") {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name.first?.isNumber == true { tasks.append(name) }
            }
            closedir(directory)
        }
        guard !tasks.isEmpty else {
            throw PrivilegeError(operation: "list the threads in /proc/self/task", errorNumber: errno)
        }
        for task in tasks {
            let fields: [String: String]
            do {
                fields = try statusFields(path: "/proc/self/task/\(task)/status")
            } catch {
                if error.errorNumber == ENOENT { continue }  // the thread exited
                throw PrivilegeError(operation: "read the status of thread \(task)", errorNumber: error.errorNumber)
            }
            for field in ["CapEff", "CapPrm"] where UInt64(fields[field] ?? "", radix: 16) != 0 {
                throw PrivilegeError(
                    operation: "drop the capabilities of thread \(task): \(field) is \(fields[field] ?? "missing")",
                    errorNumber: 0)
            }
            if fields["NoNewPrivs"] != "1" {
                throw PrivilegeError(operation: "set no_new_privs on thread \(task)", errorNumber: 0)
            }
        }
    }

    /// Parses the "Name:\tvalue" lines of a /proc status file.
    static func statusFields(path: String) throws(FileReadError) -> [String: String] {
        let text = String(decoding: try readFile(path), as: UTF8.self)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            fields[String(line[..<colon])] = String(value)
        }
        return fields
    }
}

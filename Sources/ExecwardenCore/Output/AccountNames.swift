import Glibc
import Synchronization

// NOTE: lookups run on the caller's thread, which for the sensor is the one
// consuming the ring, so a slow NSS source such as LDAP delays consumption
// until a name is cached.

/// User and group names by numeric id, looked up through the C library
/// (`getpwuid_r`, `getgrgid_r`, so NSS sources such as LDAP count) and
/// cached, ids without a name included.
///
/// The cache never expires, so an account renamed or added while the
/// sensor runs keeps its old name (or none) until the cache is full and
/// cleared. A failed lookup, such as one to an unreachable LDAP server, is
/// cached as a miss too. Safe to use from any thread.
public final class AccountNames: Sendable {
    /// A lookup from an id to a name, or nil when the id has none.
    public typealias Lookup = @Sendable (UInt32) -> String?

    private let users: NameCache
    private let groups: NameCache

    /// Creates a cache over the system account database.
    ///
    /// - Parameter maximumEntries: The number of ids each cache keeps
    ///   before it is emptied, which bounds memory when many ids appear,
    ///   as they can with user namespaces.
    public convenience init(maximumEntries: Int = 4096) {
        self.init(maximumEntries: maximumEntries,
                  userLookup: AccountNames.systemUserName,
                  groupLookup: AccountNames.systemGroupName)
    }

    /// Creates a cache over the given lookups, for tests.
    public init(maximumEntries: Int = 4096, userLookup: @escaping Lookup, groupLookup: @escaping Lookup) {
        users = NameCache(maximumEntries: maximumEntries, lookup: userLookup)
        groups = NameCache(maximumEntries: maximumEntries, lookup: groupLookup)
    }

    public func userName(_ uid: UInt32) -> String? {
        users.name(uid)
    }

    public func groupName(_ gid: UInt32) -> String? {
        groups.name(gid)
    }

    /// Looks up a user name with `getpwuid_r`.
    public static func systemUserName(_ uid: UInt32) -> String? {
        var entry = passwd()
        return withLookupBuffer(sizeHint: Int32(_SC_GETPW_R_SIZE_MAX)) { buffer in
            var result: UnsafeMutablePointer<passwd>?
            let status = getpwuid_r(uid, &entry, buffer.baseAddress!, buffer.count, &result)
            return (status, result.flatMap { $0.pointee.pw_name }.map { String(cString: $0) })
        }
    }

    /// Looks up a group name with `getgrgid_r`.
    public static func systemGroupName(_ gid: UInt32) -> String? {
        var entry = group()
        return withLookupBuffer(sizeHint: Int32(_SC_GETGR_R_SIZE_MAX)) { buffer in
            var result: UnsafeMutablePointer<group>?
            let status = getgrgid_r(gid, &entry, buffer.baseAddress!, buffer.count, &result)
            return (status, result.flatMap { $0.pointee.gr_name }.map { String(cString: $0) })
        }
    }

    /// Calls `body` with a scratch buffer for a reentrant lookup, doubling
    /// the buffer while `body` returns ERANGE. Any other error is treated
    /// as no name.
    private static func withLookupBuffer(
        sizeHint: Int32,
        _ body: (UnsafeMutableBufferPointer<CChar>) -> (status: Int32, name: String?)
    ) -> String? {
        let suggested = sysconf(sizeHint)
        var size = suggested > 0 ? suggested : 1024
        // Past 1 MiB an entry is not worth reading: treat it as having no name.
        while size <= 1 << 20 {
            let (status, name) = withUnsafeTemporaryAllocation(of: CChar.self, capacity: size, body)
            guard status == ERANGE else { return name }
            size *= 2
        }
        return nil
    }
}

/// A bounded, thread-safe map from id to name that caches misses too.
private final class NameCache: Sendable {
    private let entries = Mutex<[UInt32: String?]>([:])
    private let maximumEntries: Int
    private let lookup: AccountNames.Lookup

    init(maximumEntries: Int, lookup: @escaping AccountNames.Lookup) {
        self.maximumEntries = max(1, maximumEntries)
        self.lookup = lookup
    }

    func name(_ id: UInt32) -> String? {
        if let cached = entries.withLock({ $0[id] }) {
            return cached
        }
        // The lookup runs outside the lock because NSS may block on the
        // network. Two threads may then look up the same id at once, which
        // is harmless.
        let name = lookup(id)
        entries.withLock { entries in
            if entries.count >= maximumEntries {
                entries.removeAll(keepingCapacity: true)
            }
            entries[id] = .some(name)
        }
        return name
    }
}

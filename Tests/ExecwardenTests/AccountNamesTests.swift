import Dispatch
import Synchronization
import Testing
@testable import ExecwardenCore

/// A lookup that counts its calls.
private final class CountingLookup: Sendable {
    let calls = Mutex<[UInt32: Int]>([:])
    let names: [UInt32: String]

    init(_ names: [UInt32: String]) {
        self.names = names
    }

    func lookup(_ id: UInt32) -> String? {
        calls.withLock { $0[id, default: 0] += 1 }
        return names[id]
    }

    func count(_ id: UInt32) -> Int {
        calls.withLock { $0[id, default: 0] }
    }
}

@Suite("Account names")
struct AccountNamesTests {
    @Test("system database names root")
    func systemRoot() {
        let names = AccountNames()
        #expect(names.userName(0) == "root")
        #expect(names.groupName(0) == "root")
    }

    @Test("system database has no name for an unused id")
    func systemUnknown() {
        let names = AccountNames()
        #expect(names.userName(4_000_000_000) == nil)
        #expect(names.groupName(4_000_000_000) == nil)
    }

    @Test("names and misses are cached")
    func caching() {
        let users = CountingLookup([1000: "alice"])
        let groups = CountingLookup([:])
        let names = AccountNames(userLookup: users.lookup, groupLookup: groups.lookup)
        for _ in 0..<3 {
            #expect(names.userName(1000) == "alice")
            #expect(names.userName(7) == nil)
            #expect(names.groupName(1000) == nil)
        }
        #expect(users.count(1000) == 1)
        #expect(users.count(7) == 1)
        #expect(groups.count(1000) == 1)
    }

    @Test("full cache is emptied, then refilled")
    func bound() {
        let users = CountingLookup([:])
        let names = AccountNames(maximumEntries: 2, userLookup: users.lookup, groupLookup: { _ in nil })
        _ = names.userName(1)
        _ = names.userName(2)
        _ = names.userName(1)
        #expect(users.count(1) == 1)
        // A third id empties the full cache, so id 1 is looked up again.
        _ = names.userName(3)
        _ = names.userName(1)
        #expect(users.count(1) == 2)
    }

    @Test("concurrent lookups agree")
    func concurrent() {
        let users = CountingLookup(Dictionary(uniqueKeysWithValues: (0..<64).map { (UInt32($0), "user\($0)") }))
        let names = AccountNames(userLookup: users.lookup, groupLookup: { _ in nil })
        let mismatches = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4000) { index in
            let id = UInt32(index % 64)
            if names.userName(id) != "user\(id)" {
                mismatches.add(1, ordering: .relaxed)
            }
        }
        #expect(mismatches.load(ordering: .relaxed) == 0)
    }
}

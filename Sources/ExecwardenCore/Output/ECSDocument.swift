import Glibc

/// Renders exec events as ECS documents, one JSON line each: a process
/// event shaped like Elastic Defend's (`event.kind: "event"`), or an alert
/// for a rule match (`event.kind: "alert"`).
///
/// ## Times
///
/// `@timestamp`, `process.start` and `process.parent.start` are boot-time
/// clock readings converted to UTC with `HostInfo`'s clock offset, as RFC
/// 3339 with nine fractional digits. `event.created` is the wall clock when
/// the document was rendered.
///
/// ## Users and groups
///
/// `user.*` and `group.*` are the real ids, as in ECS, where `user` is the
/// user and `user.effective` the one whose privileges apply.
/// `user.effective.id` and `user.effective.group.id` are the effective uid
/// and gid, always present even when equal to the real ones. ECS has no
/// `group.effective`. The same ids also fill `process.user` and
/// `process.group` (effective) and `process.real_user` and
/// `process.real_group` (real), the fields Elastic's Linux rules use. Ids
/// are decimal strings because ECS types them as keywords. A name is
/// omitted when the host's account database has none for the id.
///
/// ## Bytes that are not UTF-8
///
/// Paths, names, arguments and the cgroup name are kernel bytes. In a
/// string field each byte of an ill-formed UTF-8 sequence is rendered as
/// U+FFFD. So that nothing is lost, each string field that had such bytes
/// is repeated, as the exact bytes in base64 (RFC 4648, padded), under
/// `execwarden.raw.` followed by the field's full name:
/// `execwarden.raw.process.executable`,
/// `execwarden.raw.execwarden.process.script`. For `process.args` the
/// repeat is an array of every element in base64, valid ones too, present
/// when any element is ill-formed. `process.command_line` and `message`
/// are not repeated, because they are built from fields that are.
///
/// ## Other rules
///
/// - `process.executable` (and the parent's) is omitted for a memfd or
///   another file without a path, and the parent's also when the parent
///   has no executable (a kernel thread). The dentry name is then in
///   `execwarden.process.executable_pseudo_name` and, for a memfd, the
///   name given to `memfd_create` is in `execwarden.process.memfd_name`.
/// - `process.args` and `process.command_line` are omitted when the
///   probe could not read the arguments (`execwarden.process.args_unreadable`).
///   Otherwise `process.args` has every captured element, empty ones too,
///   and `process.command_line` joins them with single spaces.
///   `process.args_count` is argc as the kernel counted it, larger than the
///   array when `execwarden.process.args_truncated` is true.
/// - Every record flag is a boolean under `execwarden.process` or
///   `execwarden.process.parent`, always present. `script_truncated` is
///   true when the script name or the working directory it was joined to
///   was cut short.
/// - `process.vpid` and `process.parent.vpid` are the pids in the process's
///   pid namespace. The parent's is omitted when the parent is outside it.
/// - `process.entity_id` and `process.parent.entity_id` follow
///   `EntityIDScheme`.
/// - `container.id` and `container.runtime` come from the cgroup path
///   (today the leaf cgroup name) as `ContainerID` describes.
/// - `execwarden.namespace.<kind>` are the namespace inode numbers, and
///   `execwarden.cgroup.id` and `.name` the leaf cgroup's id and name.
/// - `execwarden.namespace.differs_from_host.<kind>` is true when the
///   exec's namespace is not the host's (`HostInfo.namespaceInodes`). It
///   is omitted when either inode is unknown, never reported as the same.
/// - `execwarden.unshare` is present for an exec whose comm or executable
///   file name is `unshare`: the request in its argv, as
///   `UnshareCommandLine` parses it, with a one-line `summary`.
///
/// - `host.id`, `host.boot.id` and each `host.os` field from os-release are
///   omitted when `HostInfo` could not read them.
///
/// For an alert, the rule's fields are `rule.*`. ECS gives `rule.reference`
/// one value, so it is the first reference, and all of them are in
/// `execwarden.rule.references`.
/// `event.risk_score` is the rule's risk score, and `event.severity` maps
/// its severity to the risk score Kibana suggests for it: low 21, medium 47,
/// high 73, critical 99.
/// `threat.*` flattens the rule's threat entries into arrays without
/// repeats. `execwarden.rule.verdict` is `"uncertain"` when the caller
/// reports that the outcome depended on arguments past the capture limit,
/// `"match"` otherwise.
///
/// One renderer reuses one buffer, so it is not thread-safe. Each render
/// returns a slice of that buffer: a caller that keeps it past the next
/// render costs one copy.
public final class ECSRenderer {
    public static let ecsVersion = "9.5.0"
    public static let agentName = "execwarden"
    // TODO: Have the build supply the release version.
    public static let defaultAgentVersion = "0.1.0"

    private var document: ECSDocumentWriter

    /// Creates a renderer for documents from `host`.
    ///
    /// - Parameters:
    ///   - accountNames: The cache that names uids and gids.
    ///   - agentVersion: The `agent.version` value.
    public init(host: HostInfo, accountNames: AccountNames = AccountNames(),
                agentVersion: String = ECSRenderer.defaultAgentVersion) {
        document = ECSDocumentWriter(host: host, accountNames: accountNames, agentVersion: agentVersion)
    }

    /// Renders a process event document: one line of JSON without the
    /// line feed.
    ///
    /// - Parameter createdNanoseconds: `event.created` in nanoseconds since
    ///   the Unix epoch, or nil for the current wall-clock time.
    public func renderEvent(_ event: ExecEvent, createdNanoseconds: Int64? = nil) -> ArraySlice<UInt8> {
        document.renderEvent(event, createdNanoseconds: createdNanoseconds)
    }

    /// Renders an alert document for `event` matching `rule`: one line of
    /// JSON without the line feed.
    ///
    /// - Parameters:
    ///   - uncertain: True when the arguments were truncated and the rule's
    ///     outcome depended on arguments that were not captured.
    ///   - createdNanoseconds: `event.created` in nanoseconds since the Unix
    ///     epoch, or nil for the current wall-clock time.
    public func renderAlert(
        _ event: ExecEvent, rule: RuleMetadata, uncertain: Bool, createdNanoseconds: Int64? = nil
    ) -> ArraySlice<UInt8> {
        document.renderAlert(event, rule: rule, isUncertain: uncertain, createdNanoseconds: createdNanoseconds)
    }
}

/// The document layout behind `ECSRenderer`, kept in a struct so that
/// rendering works on one buffer without a class access per field.
struct ECSDocumentWriter {
    let host: HostInfo
    let accountNames: AccountNames
    let entityIDs: EntityIDScheme
    /// The `agent`, `ecs` and `host` members, the same in every document.
    let constantMembers: [UInt8]
    var writer = JSONWriter(capacity: 16 * 1024)

    init(host: HostInfo, accountNames: AccountNames, agentVersion: String) {
        self.host = host
        self.accountNames = accountNames
        entityIDs = EntityIDScheme(machineID: host.machineID, bootID: host.bootID)
        constantMembers = Self.renderConstantMembers(host: host, agentVersion: agentVersion)
    }

    mutating func renderEvent(_ event: ExecEvent, createdNanoseconds: Int64?) -> ArraySlice<UInt8> {
        writer.reset()
        writer.beginObject()
        writeCommonHead(event)
        writer.beginObject("event")
        writeEventMembers(kind: "event", dataset: "execwarden.process", created: createdNanoseconds)
        writer.endObject()
        writeProcessSections(event)
        writeExecwardenSection(event, rule: nil)
        writer.endObject()
        return writer.bytes[...]
    }

    mutating func renderAlert(
        _ event: ExecEvent, rule: RuleMetadata, isUncertain: Bool, createdNanoseconds: Int64?
    ) -> ArraySlice<UInt8> {
        writer.reset()
        writer.beginObject()
        writeCommonHead(event)
        writeMessage(event, rule: rule)
        writer.beginObject("event")
        writeEventMembers(kind: "alert", dataset: "execwarden.alert", created: createdNanoseconds)
        writeEventRisk(rule)
        writer.endObject()
        writeProcessSections(event)
        writeRuleSections(rule)
        writeExecwardenSection(event, rule: (rule, isUncertain))
        writer.endObject()
        return writer.bytes[...]
    }

    // MARK: Sections

    private mutating func writeCommonHead(_ event: ExecEvent) {
        writer.field("@timestamp", timestampNanoseconds: wallClock(event.eventTimeNanoseconds))
        writer.appendMembers(constantMembers)
    }

    private mutating func writeEventMembers(kind: StaticString, dataset: StaticString, created: Int64?) {
        writer.field("kind", constant: kind)
        writer.beginArray("category")
        writer.value(constant: "process")
        writer.endArray()
        writer.beginArray("type")
        writer.value(constant: "start")
        writer.endArray()
        writer.field("action", constant: "exec")
        writer.field("module", constant: "execwarden")
        writer.field("dataset", constant: dataset)
        writer.field("created", timestampNanoseconds: created ?? HostInfo.readClock(CLOCK_REALTIME))
    }

    func wallClock(_ bootNanoseconds: UInt64) -> Int64 {
        host.wallClockNanoseconds(bootNanoseconds: bootNanoseconds)
    }

    private static func renderConstantMembers(host: HostInfo, agentVersion: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject("agent")
        writer.field("type", ECSRenderer.agentName)
        writer.field("name", ECSRenderer.agentName)
        writer.field("version", agentVersion)
        writer.endObject()
        writer.beginObject("ecs")
        writer.field("version", ECSRenderer.ecsVersion)
        writer.endObject()
        writeHost(host, into: &writer)
        return writer.bytes
    }

    private static func writeHost(_ host: HostInfo, into writer: inout JSONWriter) {
        writer.beginObject("host")
        writer.field("architecture", host.architecture)
        if !host.bootID.isEmpty {
            writer.beginObject("boot")
            writer.field("id", host.bootID)
            writer.endObject()
        }
        writer.field("hostname", host.hostname)
        if !host.machineID.isEmpty {
            writer.field("id", host.machineID)
        }
        writer.field("name", host.hostname)
        writeOperatingSystem(host, into: &writer)
        writer.endObject()
    }

    private static func writeOperatingSystem(_ host: HostInfo, into writer: inout JSONWriter) {
        writer.beginObject("os")
        writeIfPresent("family", host.os.family, into: &writer)
        writeIfPresent("full", host.os.prettyName, into: &writer)
        writer.field("kernel", host.kernelRelease)
        writeIfPresent("name", host.os.name, into: &writer)
        writeIfPresent("platform", host.os.id, into: &writer)
        writer.field("type", "linux")
        writeIfPresent("version", host.os.version, into: &writer)
        writer.endObject()
    }

    static func writeIfPresent(_ key: StaticString, _ value: String?, into writer: inout JSONWriter) {
        if let value {
            writer.field(key, value)
        }
    }
}

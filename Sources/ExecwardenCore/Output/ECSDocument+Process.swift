extension ECSDocumentWriter {
    /// Writes the `process`, `user`, `group` and `container` members.
    mutating func writeProcessSections(_ event: ExecEvent) {
        let accounts = Accounts(event, names: accountNames)
        writer.beginObject("process")
        writeProcessIdentity(event)
        writeArguments(event)
        writeProcessAccounts(accounts)
        writeParent(event)
        writer.endObject()
        writeUserAndGroup(accounts)
        writeContainer(event)
    }

    private mutating func writeProcessIdentity(_ event: ExecEvent) {
        writer.field("pid", event.pid)
        writer.field("vpid", event.namespacePID)
        writer.beginObject("thread")
        writer.field("id", event.tid)
        writer.endObject()
        if event.hasExecutablePath {
            writer.field("executable", bytes: event.executable)
        }
        writer.field("name", bytes: event.name)
        writer.field("start", timestampNanoseconds: wallClock(event.startTimeNanoseconds))
        writer.key("entity_id")
        entityIDs.writeEntityID(into: &writer, pid: event.pid, startTimeNanoseconds: event.startTimeNanoseconds)
    }

    private mutating func writeArguments(_ event: ExecEvent) {
        writer.field("args_count", event.argc)
        guard !event.flags.contains(.argsUnreadable) else { return }
        writeArgumentList(event.args)
    }

    /// Writes `args` and `command_line`, the elements joined by spaces.
    private mutating func writeArgumentList(_ arguments: [[UInt8]]) {
        writer.field("args", byteStrings: arguments)
        writer.key("command_line")
        writer.beginString()
        for (index, argument) in arguments.enumerated() {
            if index > 0 {
                writer.appendStringContent(CollectionOfOne(UInt8(ascii: " ")))
            }
            writer.appendStringContent(argument)
        }
        writer.endString()
    }

    private mutating func writeProcessAccounts(_ accounts: Accounts) {
        writeAccount("user", accounts.effectiveUser)
        writeAccount("group", accounts.effectiveGroup)
        writeAccount("real_user", accounts.realUser)
        writeAccount("real_group", accounts.realGroup)
    }

    private mutating func writeParent(_ event: ExecEvent) {
        writer.beginObject("parent")
        writer.field("pid", event.parentPID)
        if event.namespaceParentPID != 0 {
            writer.field("vpid", event.namespaceParentPID)
        }
        if event.hasParentExecutablePath {
            writer.field("executable", bytes: event.parentExecutable)
        }
        writer.field("name", bytes: event.parentName)
        if event.hasParentArgs {
            writer.field("args_count", event.parentArgc)
            writeArgumentList(event.parentArgs)
        }
        writer.field("start", timestampNanoseconds: wallClock(event.parentStartTimeNanoseconds))
        writer.key("entity_id")
        entityIDs.writeEntityID(
            into: &writer, pid: event.parentPID, startTimeNanoseconds: event.parentStartTimeNanoseconds)
        writer.endObject()
    }

    private mutating func writeUserAndGroup(_ accounts: Accounts) {
        writer.beginObject("user")
        writeAccountMembers(accounts.realUser)
        writer.beginObject("effective")
        writeAccountMembers(accounts.effectiveUser)
        writeAccount("group", accounts.effectiveGroup)
        writer.endObject()
        writer.endObject()
        writeAccount("group", accounts.realGroup)
    }

    private mutating func writeContainer(_ event: ExecEvent) {
        guard let container = ContainerID(cgroupPath: event.cgroupPath) else { return }
        writer.beginObject("container")
        writer.field("id", container.id)
        if let runtime = container.runtime {
            writer.field("runtime", runtime)
        }
        writer.endObject()
    }

    /// Writes `key: {"id": "<id>", "name": name}`, without the name when
    /// there is none.
    private mutating func writeAccount(_ key: StaticString, _ account: Account) {
        writer.beginObject(key)
        writeAccountMembers(account)
        writer.endObject()
    }

    private mutating func writeAccountMembers(_ account: Account) {
        writer.field("id", decimalString: account.id)
        if let name = account.name {
            writer.field("name", name)
        }
    }
}

/// A user or group id and its name, if the account database has one.
private struct Account {
    var id: UInt32
    var name: String?
}

/// The four accounts of an exec, each name looked up once.
private struct Accounts {
    var realUser: Account
    var effectiveUser: Account
    var realGroup: Account
    var effectiveGroup: Account

    init(_ event: ExecEvent, names: AccountNames) {
        realUser = Account(id: event.uid, name: names.userName(event.uid))
        effectiveUser = event.euid == event.uid
            ? realUser : Account(id: event.euid, name: names.userName(event.euid))
        realGroup = Account(id: event.gid, name: names.groupName(event.gid))
        effectiveGroup = event.egid == event.gid
            ? realGroup : Account(id: event.egid, name: names.groupName(event.egid))
    }
}

extension ECSDocumentWriter {
    /// Writes `execwarden.raw`: the exact bytes, in base64, of each
    /// rendered string field that was not well-formed UTF-8.
    mutating func writeRaw(_ event: ExecEvent, _ invalid: IllFormedFields) {
        writer.beginObject("raw")
        if invalid.anyECS {
            writeRawECS(event, invalid)
        }
        if invalid.anyExecwarden {
            writeRawExecwarden(event, invalid)
        }
        writer.endObject()
    }

    /// Writes `execwarden.raw.process`.
    private mutating func writeRawECS(_ event: ExecEvent, _ invalid: IllFormedFields) {
        writer.beginObject("process")
        writeRaw("executable", event.executable, if: invalid.executable)
        writeRaw("name", event.name, if: invalid.name)
        if invalid.args {
            writer.beginArray("args")
            for argument in event.args {
                writer.base64(argument)
            }
            writer.endArray()
        }
        if invalid.parentExecutable || invalid.parentName || invalid.parentArgs {
            writer.beginObject("parent")
            writeRaw("executable", event.parentExecutable, if: invalid.parentExecutable)
            writeRaw("name", event.parentName, if: invalid.parentName)
            if invalid.parentArgs {
                writer.beginArray("args")
                for argument in event.parentArgs {
                    writer.base64(argument)
                }
                writer.endArray()
            }
            writer.endObject()
        }
        writer.endObject()
    }

    /// Writes `execwarden.raw.execwarden`.
    private mutating func writeRawExecwarden(_ event: ExecEvent, _ invalid: IllFormedFields) {
        writer.beginObject("execwarden")
        if invalid.anyExecwardenProcess {
            writer.beginObject("process")
            writeRaw("executable_pseudo_name", event.executable, if: invalid.pseudoName)
            writeRaw("memfd_name", Self.memfdName(event.executable, true) ?? [], if: invalid.memfdName)
            writeRaw("script", event.script, if: invalid.script)
            if invalid.parentPseudoName || invalid.parentMemfdName {
                writer.beginObject("parent")
                writeRaw("executable_pseudo_name", event.parentExecutable, if: invalid.parentPseudoName)
                writeRaw("memfd_name", Self.memfdName(event.parentExecutable, true) ?? [],
                         if: invalid.parentMemfdName)
                writer.endObject()
            }
            writer.endObject()
        }
        if invalid.cgroupPath {
            writer.beginObject("cgroup")
            writer.key("path")
            writer.base64(event.cgroupPath)
            writer.endObject()
        }
        writer.endObject()
    }

    private mutating func writeRaw<Bytes: Collection>(_ key: StaticString, _ value: Bytes, if condition: Bool)
    where Bytes.Element == UInt8 {
        guard condition else { return }
        writer.key(key)
        writer.base64(value)
    }
}

/// Flags for the rendered string fields of an event that are not
/// well-formed UTF-8. A field that is not rendered counts as well-formed.
struct IllFormedFields {
    var executable = false
    var name = false
    var args = false
    var parentExecutable = false
    var parentName = false
    var parentArgs = false
    var pseudoName = false
    var memfdName = false
    var script = false
    var parentPseudoName = false
    var parentMemfdName = false
    var cgroupPath = false

    init(_ event: ExecEvent) {
        let flags = event.flags
        executable = event.hasExecutablePath && !UTF8Validation.isValid(event.executable)
        name = !UTF8Validation.isValid(event.name)
        args = !flags.contains(.argsUnreadable) && event.args.contains { !UTF8Validation.isValid($0) }
        parentExecutable = event.hasParentExecutablePath && !UTF8Validation.isValid(event.parentExecutable)
        parentName = !UTF8Validation.isValid(event.parentName)
        parentArgs = event.hasParentArgs && event.parentArgs.contains { !UTF8Validation.isValid($0) }
        pseudoName = Self.isIllFormed(ECSDocumentWriter.pseudoName(event.executable, flags.contains(.executablePseudo)))
        memfdName = Self.isIllFormed(ECSDocumentWriter.memfdName(event.executable, flags.contains(.executableMemfd)))
        script = Self.isIllFormed(ECSDocumentWriter.script(event))
        parentPseudoName = Self.isIllFormed(ECSDocumentWriter.parentPseudoName(event))
        parentMemfdName = Self.isIllFormed(ECSDocumentWriter.parentMemfdName(event))
        cgroupPath = !UTF8Validation.isValid(event.cgroupPath)
    }

    var anyECS: Bool {
        executable || name || args || parentExecutable || parentName || parentArgs
    }

    var anyExecwardenProcess: Bool {
        pseudoName || memfdName || script || parentPseudoName || parentMemfdName
    }

    var anyExecwarden: Bool {
        anyExecwardenProcess || cgroupPath
    }

    var any: Bool {
        anyECS || anyExecwarden
    }

    private static func isIllFormed<Bytes: Collection>(_ value: Bytes?) -> Bool where Bytes.Element == UInt8 {
        value.map { !UTF8Validation.isValid($0) } ?? false
    }
}

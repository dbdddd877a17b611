/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The exec record shared by the BPF program and user space.
 *
 * A record is a fixed header followed by variable-length data. Every
 * variable field is an ew_span: an offset from the start of the record and a
 * length in bytes. Only the bytes used are sent through the ring buffer.
 * The layout uses fixed-width types only, with every hole filled by a named
 * pad. The C shim checks the offsets with _Static_assert, and a Swift test
 * compares them with its decoder.
 */
#ifndef EXECWARDEN_RECORD_H
#define EXECWARDEN_RECORD_H

#ifdef __bpf__
/* The BPF build takes __u32 and friends from its kernel type header. */
#else
#include <linux/types.h>
#endif

#define EW_RECORD_VERSION 1

#define EW_COMM_LEN 16
/* Longest path rendered; a longer one is sent as a prefix with a flag. */
#define EW_PATH_MAX 4096
/* Most bytes of the argv area sent; past it the record is flagged. */
#define EW_ARGS_MAX (256 * 1024)
/* Maximum length of the cgroup name (a kernfs node name) sent. */
#define EW_CGROUP_NAME_MAX 256

enum ew_record_flag {
	EW_FLAG_ARGS_TRUNCATED = 1u << 0,
	EW_FLAG_ARGS_UNREADABLE = 1u << 1,
	EW_FLAG_EXE_TRUNCATED = 1u << 2,
	EW_FLAG_EXE_DELETED = 1u << 3,
	/* The file has no name in any mount namespace: memfd or another
	 * pseudo file. Its span then carries the dentry name alone. */
	EW_FLAG_EXE_PSEUDO = 1u << 4,
	EW_FLAG_EXE_MEMFD = 1u << 5,
	EW_FLAG_PARENT_EXE_TRUNCATED = 1u << 6,
	EW_FLAG_PARENT_EXE_DELETED = 1u << 7,
	EW_FLAG_PARENT_EXE_PSEUDO = 1u << 8,
	EW_FLAG_PARENT_EXE_MEMFD = 1u << 9,
	/* The parent has no executable: a kernel thread or an exiting task. */
	EW_FLAG_PARENT_NO_EXE = 1u << 10,
	/* The kernel ran an interpreter for a script (or binfmt_misc); the
	 * script span then carries the file name given to exec. */
	EW_FLAG_INTERPRETED = 1u << 11,
	EW_FLAG_SCRIPT_TRUNCATED = 1u << 12,
	EW_FLAG_SCRIPT_DIRECTORY_TRUNCATED = 1u << 13,
	/* The path is not reliable. Either the walk towards the root gave up
	 * before reaching one (for example below thousands of stacked mounts),
	 * so the span carries only the components nearest the file, or a name
	 * changed while it was read (a concurrent rename). */
	EW_FLAG_EXE_INCOMPLETE = 1u << 14,
	EW_FLAG_PARENT_EXE_INCOMPLETE = 1u << 15,
	/* The file is on a mount tree outside the task's mount namespace (a
	 * detached mount, or a file from another namespace): the path is not
	 * one the process can name. Not set for the parent, whose executable
	 * may be in a namespace it has since left. */
	EW_FLAG_EXE_UNREACHABLE = 1u << 16,
};

/* Bytes [offset, offset + length) of the record. */
struct ew_span {
	__u32 offset;
	__u32 length;
};

enum ew_namespace_index {
	EW_NS_MNT,
	EW_NS_PID,
	EW_NS_USER,
	EW_NS_UTS,
	EW_NS_IPC,
	EW_NS_NET,
	EW_NS_CGROUP,
	EW_NS_COUNT,
};

struct ew_exec_record {
	__u16 version;
	__u16 header_size;
	/* Header plus data, in bytes. */
	__u32 size;
	__u32 flags;
	/* Thread-group id in the initial pid namespace. */
	__u32 pid;
	/* Id of the thread that called exec, before the kernel made it the
	 * group leader. */
	__u32 tid;
	/* Thread-group id of real_parent's group leader. */
	__u32 ppid;
	/* The pid as the process's own pid namespace numbers it, and the
	 * parent's pid in that namespace (0 when the parent is outside it). */
	__u32 ns_pid;
	__u32 ns_ppid;
	__u32 uid;
	__u32 euid;
	__u32 gid;
	__u32 egid;
	/* argc as the kernel counted it; larger than the elements sent when
	 * EW_FLAG_ARGS_TRUNCATED is set. */
	__u32 argc;
	__u32 pad0;
	/* Boot-time clock, nanoseconds. */
	__u64 event_time_ns;
	__u64 start_time_ns;
	__u64 parent_start_time_ns;
	/* Cgroup v2 id of the default hierarchy. */
	__u64 cgroup_id;
	__u32 ns_inum[EW_NS_COUNT];
	__u32 pad1;
	char comm[EW_COMM_LEN];
	char parent_comm[EW_COMM_LEN];
	/* The argv area: NUL-terminated elements, exact bytes. */
	struct ew_span args;
	/* Path of the file the kernel executed (bprm->file). */
	struct ew_span executable;
	/* Path of the parent's current executable (mm->exe_file). */
	struct ew_span parent_executable;
	/* For EW_FLAG_INTERPRETED, the file name given to exec (the script),
	 * as the caller wrote it. */
	struct ew_span script;
	/* Name of the leaf cgroup in the default hierarchy. */
	struct ew_span cgroup_name;
	/* When the script name is relative: the working directory it is
	 * relative to, walked like the executable's path. */
	struct ew_span script_directory;
};

/* Ring-buffer loss counters, one array slot each, per CPU. */
enum ew_counter_index {
	EW_COUNTER_SENT,
	EW_COUNTER_RING_FULL,
	EW_COUNTER_NO_SCRATCH,
	EW_COUNTER_COUNT,
};

#endif /* EXECWARDEN_RECORD_H */

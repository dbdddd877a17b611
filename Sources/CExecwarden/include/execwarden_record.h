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

#define EW_RECORD_VERSION 2

#define EW_COMM_LEN 16
/* Longest path rendered; a longer one is sent as a prefix with a flag. */
#define EW_PATH_MAX 4096
/* Most bytes of the argv area sent; past it the record is flagged. */
#define EW_ARGS_MAX (256 * 1024)
/* Bytes of cgroup names sent: past this the walk stops, with a flag. */
#define EW_CGROUP_PATH_MAX 4096
/* Most bytes kept of each process's argv for its children's records. The
 * kernel keeps one entry a live process, so the cap bounds its memory: an
 * entry fits a 4 KiB allocation. */
#define EW_PARENT_ARGS_MAX 4000
/* Bytes of a file name or comm the kernel prefilter compares. */
#define EW_PREFILTER_NAME_MAX 64

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
	/* The parent's argv is longer than EW_PARENT_ARGS_MAX: the span has
	 * its first bytes and parent_argc the true count. */
	EW_FLAG_PARENT_ARGS_TRUNCATED = 1u << 17,
	/* The probe kept no argv for the parent: it started before the
	 * sensor and was not found in /proc at start, or its entry could not
	 * be stored. */
	EW_FLAG_PARENT_ARGS_UNKNOWN = 1u << 18,
	/* The cgroup names stop before the root: the span has the names
	 * nearest the task. */
	EW_FLAG_CGROUP_PATH_TRUNCATED = 1u << 19,
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
	/* The parent's argc at its own exec. */
	__u32 parent_argc;
	/* Boot-time clock, nanoseconds. */
	__u64 event_time_ns;
	__u64 start_time_ns;
	__u64 parent_start_time_ns;
	/* Id of the cgroup that cgroup_path names (its kernfs node id, the
	 * inode number of its directory), which for the default hierarchy is
	 * the cgroup v2 id. */
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
	/* The names of the task's cgroup and its ancestors, leaf first, each
	 * NUL-terminated, up to but not including the root of the hierarchy.
	 * They are named from the initial cgroup namespace, in the default
	 * (v2) hierarchy, or in the memory controller's v1 hierarchy on a host
	 * whose default hierarchy is unused. Empty for the root cgroup. */
	struct ew_span cgroup_path;
	/* When the script name is relative: the working directory it is
	 * relative to, walked like the executable's path. */
	struct ew_span script_directory;
	/* The parent's argv as it was at the parent's own exec (inherited
	 * through fork), NUL-terminated elements, exact bytes. */
	struct ew_span parent_args;
};

/* The probe's counters, one array slot each, per CPU. */
enum ew_counter_index {
	/* Records of execs a rule may match, on the rules ring. */
	EW_COUNTER_RULES_SENT,
	EW_COUNTER_RULES_RING_FULL,
	/* Records of all other execs, on the events ring (--events only). */
	EW_COUNTER_EVENTS_SENT,
	EW_COUNTER_EVENTS_RING_FULL,
	/* Execs the prefilter showed no rule can match, in rule mode. */
	EW_COUNTER_FILTERED,
	EW_COUNTER_NO_SCRATCH,
	/* Execs whose argv could not be kept for their children. */
	EW_COUNTER_ARGS_NOT_KEPT,
	EW_COUNTER_COUNT,
};

/* Slots of the ring_fill map. */
enum ew_ring_fill_index {
	EW_RING_FILL_RULES,
	EW_RING_FILL_EVENTS,
};

/* The probe's settings, the single entry of the config map, set by user
 * space at start and on rule reloads. */
enum ew_config_flag {
	/* Send every exec: rule candidates on the rules ring, the rest on
	 * the events ring. */
	EW_CONFIG_EMIT_EVENTS = 1u << 0,
	/* Some rule has no prefilter handle: every exec is a candidate. */
	EW_CONFIG_PASS_ALL = 1u << 1,
};

struct ew_config {
	__u32 flags;
	__u32 pad;
	/* The events ring wakes its reader once this many bytes are waiting;
	 * user space polls for less at a short interval. */
	__u64 events_wakeup_bytes;
};

/* The argv a process had at its exec, kept by tgid for its children's
 * records. A fork copies the entry; the exit of the last thread deletes it. */
struct ew_process_args {
	/* Start of the process (boot clock, ns), to tell a reused pid. */
	__u64 start_time_ns;
	/* When non-zero, start_time_ns is only known to this many ns (an entry
	 * from /proc, whose start times are in clock ticks). */
	__u32 start_time_granularity_ns;
	__u32 argc;
	__u32 length;
	/* EW_FLAG_PARENT_ARGS_TRUNCATED or 0. */
	__u32 flags;
	char args[EW_PARENT_ARGS_MAX];
};

/* Keys of the prefilter maps: a name cut to EW_PREFILTER_NAME_MAX - 1
 * bytes, ASCII-lowercased, NUL-padded. */
struct ew_prefilter_key {
	char name[EW_PREFILTER_NAME_MAX];
};

#endif /* EXECWARDEN_RECORD_H */

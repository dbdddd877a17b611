// SPDX-License-Identifier: GPL-2.0
/*
 * The exec probe: one record per successful exec, sent through a ring buffer.
 *
 * sched_process_exec fires after the new image is in place and only for
 * execs that succeeded, so failed attempts never produce a record. All
 * values are read here, at the moment of the exec, never later from procfs.
 */
#include <linux/bpf.h>
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "execwarden_record.h"
#include "execwarden.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Records of execs that a rule may match. Kept apart from the events ring
 * so that a flood of telemetry cannot crowd out an alert. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} rules_ring SEC(".maps");

/* Records of every other exec, with --events; user space shrinks it to one
 * page in rule mode. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} events_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ew_config);
} config SEC(".maps");

/* Bytes waiting in each ring (enum ew_ring) just after the latest record
 * was written to it: a gauge of how close the reader is to losing. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} ring_fill SEC(".maps");

/* The prefilter: names of executables and comms that some rule may match. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ew_prefilter_key);
	__type(value, __u8);
} executable_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ew_prefilter_key);
	__type(value, __u8);
} process_names SEC(".maps");

/* Each live process's argv at its exec, by tgid. Allocated per entry, so
 * its memory follows the number of processes, not max_entries. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct ew_process_args);
} process_args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EW_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Where a record is assembled before it is copied into the ring. An array,
 * not a per-CPU array, because a per-CPU value is limited to 32 KiB; user
 * space sets max_entries to the number of possible CPUs and the program
 * picks its CPU's slot. The kernel runs tracepoint programs with preemption
 * disabled, and since Linux 6.2 it also skips a run that would nest in
 * another on the same CPU (counted in recursion_misses), so no two runs
 * share a slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ew_scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ew_components);
} components SEC(".maps");

/* One step from the current dentry towards the root, recording the name of
 * each dentry passed. Returns 1 to stop the walk. */
static long ew_walk_step(__u32 index, void *context)
{
	struct ew_walk *w = context;
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct dentry *up;
	struct ew_components *items;
	struct ew_component *item;
	__u32 key = 0;

	if (dentry == w->root_dentry && vfsmnt == w->root_mnt) {
		w->finished = true;
		return 1;
	}

	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);

		/* The top of a mount tree without having passed root. A
		 * file outside a chroot, or whose mount the task left by
		 * unsharing its mount namespace, gets its path from the top
		 * of its own namespace, as d_path() gives it. A tree outside
		 * the task's namespace is flagged. */
		if (!parent || parent == mnt) {
			w->finished = true;
			w->unreachable = BPF_CORE_READ(mnt, mnt_ns) != w->own_ns;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = parent;
		w->vfsmnt = &parent->mnt;
		return 0;
	}

	up = BPF_CORE_READ(dentry, d_parent);
	items = bpf_map_lookup_elem(&components, &key);
	if (!items)
		return 1;
	/* The name before its length, in the order of the kernel's
	 * prepend_name(): a rename can change both, so the render pass checks
	 * that the name is as long as the recorded length. */
	item = &items->items[w->count & EW_COMPONENTS_MASK];
	item->name = (__u64)BPF_CORE_READ(dentry, d_name.name);
	item->length = BPF_CORE_READ(dentry, d_name.len);
	w->count++;

	/* A dentry that is its own parent and not a mount root belongs to no
	 * directory tree: memfd and other pseudo files. */
	if (!up || up == dentry) {
		w->pseudo = true;
		w->finished = true;
		return 1;
	}
	w->dentry = up;
	return 0;
}

/* Appends one recorded component, nearest the root first, as "/name". */
static long ew_render_step(__u32 index, void *context)
{
	struct ew_walk *w = context;
	struct ew_components *items;
	struct ew_component *item;
	struct ew_scratch *s;
	__u32 key = 0, cpu = bpf_get_smp_processor_id();
	__u32 length, room;
	long copied;

	items = bpf_map_lookup_elem(&components, &key);
	s = bpf_map_lookup_elem(&scratch, &cpu);
	if (!items || !s)
		return 1;
	item = &items->items[(w->count - 1 - index) & EW_COMPONENTS_MASK];
	length = item->length;
	if (length > EW_NAME_MAX)
		length = EW_NAME_MAX;

	if (!w->pseudo) {
		if (w->written >= EW_PATH_MAX) {
			w->truncated = 1;
			return 1;
		}
		s->data[w->pos & EW_DATA_MASK] = '/';
		w->pos++;
		w->written++;
	}
	room = EW_PATH_MAX - w->written;
	if (length > room) {
		length = room;
		w->truncated = 1;
	}
	/* Already at most EW_NAME_MAX: the mask shows the verifier. */
	length &= EW_NAME_MAX;
	if (length == 0)
		return w->truncated & 1;

	/* Copy as a string, which stops at the name's NUL: a name renamed
	 * since its length was read may be shorter, and a plain copy would
	 * send the kernel memory after it. The NUL written past the name is
	 * overwritten by the next '/' or left outside the span. */
	copied = bpf_probe_read_kernel_str(&s->data[w->pos & EW_DATA_MASK],
					   length + 1, (void *)item->name);
	if (copied <= 0) {
		w->unstable = true;
		return 1;
	}
	if (copied - 1 != length)
		w->unstable = true;
	length = (copied - 1) & EW_NAME_MAX;
	w->pos += length;
	w->written += length;
	return w->truncated & 1;
}

static const struct ew_path_flags ew_executable_flags = {
	.truncated = EW_FLAG_EXE_TRUNCATED,
	.incomplete = EW_FLAG_EXE_INCOMPLETE,
	.unreachable = EW_FLAG_EXE_UNREACHABLE,
	.deleted = EW_FLAG_EXE_DELETED,
	.pseudo = EW_FLAG_EXE_PSEUDO,
	.memfd = EW_FLAG_EXE_MEMFD,
};

static const struct ew_path_flags ew_parent_executable_flags = {
	.truncated = EW_FLAG_PARENT_EXE_TRUNCATED,
	.incomplete = EW_FLAG_PARENT_EXE_INCOMPLETE,
	/* The parent's executable may well be in a namespace the parent has
	 * since left, so it is not compared with a namespace. */
	.unreachable = 0,
	.deleted = EW_FLAG_PARENT_EXE_DELETED,
	.pseudo = EW_FLAG_PARENT_EXE_PSEUDO,
	.memfd = EW_FLAG_PARENT_EXE_MEMFD,
};

/* A working directory needs no flags of its own beyond one for any flaw. */
static const struct ew_path_flags ew_script_directory_flags = {
	.truncated = EW_FLAG_SCRIPT_DIRECTORY_TRUNCATED,
	.incomplete = EW_FLAG_SCRIPT_DIRECTORY_TRUNCATED,
	.unreachable = EW_FLAG_SCRIPT_DIRECTORY_TRUNCATED,
};

/* Writes the path of a dentry on a mount, walked through mounts up to root,
 * at pos, and sets the record flags named in flags. Returns the new pos. */
static __always_inline __u32 ew_put_path(struct ew_scratch *s, __u32 pos,
					 struct dentry *dentry,
					 struct vfsmount *vfsmnt,
					 struct ew_root *root,
					 struct ew_span *span,
					 const struct ew_path_flags *flags)
{
	struct ew_walk w = {};
	struct ew_exec_record *r = &s->record;
	char prefix[6] = {};
	__u32 rendered_count;

	span->offset = sizeof(*r) + pos;
	span->length = 0;
	if (!dentry || !vfsmnt)
		return pos;

	w.dentry = dentry;
	w.vfsmnt = vfsmnt;
	w.mnt = ew_real_mount(vfsmnt);
	w.root_dentry = root->dentry;
	w.root_mnt = root->mnt;
	w.own_ns = root->mnt_ns;
	w.pos = pos;

	/* A hashed dentry is reachable by name; an unhashed one that is not
	 * its directory's root was unlinked (d_unlinked() in the kernel). */
	if (!BPF_CORE_READ(dentry, d_hash.pprev) &&
	    BPF_CORE_READ(dentry, d_parent) != dentry)
		r->flags |= flags->deleted;

	bpf_loop(EW_WALK_STEPS_MAX, ew_walk_step, &w, 0);
	if (!w.finished)
		r->flags |= flags->incomplete;
	if (w.unreachable)
		r->flags |= flags->unreachable;
	if (w.pseudo) {
		r->flags |= flags->pseudo;
		dentry = w.dentry;
		bpf_probe_read_kernel(prefix, sizeof(prefix),
				      BPF_CORE_READ(dentry, d_name.name));
		if (prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' &&
		    prefix[3] == 'f' && prefix[4] == 'd' && prefix[5] == ':')
			r->flags |= flags->memfd;
	}

	if (w.count == 0) {
		/* The path is the root directory itself. */
		s->data[w.pos & EW_DATA_MASK] = '/';
		w.pos++;
	} else {
		/* Past EW_COMPONENTS_MAX the components nearest the file were
		 * overwritten, so what is rendered is a prefix. */
		rendered_count = w.count > EW_COMPONENTS_MAX ?
				 EW_COMPONENTS_MAX : w.count;
		if (rendered_count < w.count)
			r->flags |= flags->truncated;
		bpf_loop(rendered_count, ew_render_step, &w, 0);
	}
	if (w.truncated)
		r->flags |= flags->truncated;
	if (w.unstable)
		r->flags |= flags->incomplete;

	span->length = w.pos - pos;
	return w.pos;
}

static __always_inline __u32 ew_put_file_path(struct ew_scratch *s, __u32 pos,
					      struct file *file,
					      struct ew_root *root,
					      struct ew_span *span,
					      const struct ew_path_flags *flags)
{
	return ew_put_path(s, pos, BPF_CORE_READ(file, f_path.dentry),
			   BPF_CORE_READ(file, f_path.mnt), root, span, flags);
}

/* Writes the parent's current executable, walked up to the parent's own
 * root. The group leader may have exited while other threads run on, so
 * the forking thread's mm and fs stand in for its own. A parent without an
 * mm (a kernel thread, or a process already exiting) has no executable. */
static __always_inline __u32 ew_put_parent_path(struct ew_scratch *s,
						__u32 pos,
						struct task_struct *parent,
						struct task_struct *thread,
						struct ew_root *child_root)
{
	struct ew_exec_record *r = &s->record;
	struct file *exe = BPF_CORE_READ(parent, mm, exe_file);
	struct fs_struct *fs = BPF_CORE_READ(parent, fs);
	struct ew_root root = *child_root;

	if (!exe)
		exe = BPF_CORE_READ(thread, mm, exe_file);
	if (!fs)
		fs = BPF_CORE_READ(thread, fs);

	if (!exe) {
		r->flags |= EW_FLAG_PARENT_NO_EXE;
		r->parent_executable.offset = sizeof(*r) + pos;
		r->parent_executable.length = 0;
		return pos;
	}
	if (fs)
		ew_read_root(&root, parent, fs);
	return ew_put_file_path(s, pos, exe, &root, &r->parent_executable,
				&ew_parent_executable_flags);
}

/* For a script, writes the file name given to exec and, when that name is
 * relative, the working directory. The kernel marks the switch to an
 * interpreter by giving bprm->interp its own copy of the interpreter's
 * name; by the time of this tracepoint it has closed the script file, so
 * the name is all that is left of it. */
static __always_inline __u32 ew_put_script(struct ew_scratch *s, __u32 pos,
					   struct task_struct *task,
					   struct linux_binprm *bprm,
					   struct ew_root *root)
{
	struct ew_exec_record *r = &s->record;
	const char *filename = BPF_CORE_READ(bprm, filename);
	struct fs_struct *fs;
	long length;

	r->script.offset = sizeof(*r) + pos;
	r->script.length = 0;
	r->script_directory.offset = sizeof(*r) + pos;
	r->script_directory.length = 0;
	if (BPF_CORE_READ(bprm, interp) == filename)
		return pos;
	r->flags |= EW_FLAG_INTERPRETED;

	length = bpf_probe_read_kernel_str(&s->data[pos & EW_DATA_MASK],
					   EW_PATH_MAX, filename);
	if (length <= 1)
		return pos;
	/* The kernel builds "/dev/fd/N/name" for execveat, which can exceed
	 * PATH_MAX. */
	if (length == EW_PATH_MAX)
		r->flags |= EW_FLAG_SCRIPT_TRUNCATED;
	if (s->data[pos & EW_DATA_MASK] == '/') {
		r->script.length = length - 1;
		return pos + length - 1;
	}
	r->script.length = length - 1;
	pos += length - 1;

	fs = BPF_CORE_READ(task, fs);
	return ew_put_path(s, pos, BPF_CORE_READ(fs, pwd.dentry),
			   BPF_CORE_READ(fs, pwd.mnt), root,
			   &r->script_directory, &ew_script_directory_flags);
}

static __always_inline struct kernfs_node *ew_kernfs_parent(
	struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* The cgroup whose path the record carries: the default hierarchy's, or
 * when the task sits at its root (a host that mounts only v1 controllers),
 * the memory controller's. */
static __always_inline struct kernfs_node *ew_cgroup_node(
	struct task_struct *task)
{
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	struct kernfs_node *kn = BPF_CORE_READ(cset, dfl_cgrp, kn);
	struct cgroup_subsys_state *css = NULL;
	struct kernfs_node *v1;
	__u32 id;

	if (ew_kernfs_parent(kn) ||
	    !bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return kn;
	id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (id >= 64)
		return kn;
	bpf_probe_read_kernel(&css, sizeof(css),
			      (void *)cset +
				      bpf_core_field_offset(struct css_set,
							    subsys) +
				      id * sizeof(css));
	v1 = BPF_CORE_READ(css, cgroup, kn);
	return v1 && ew_kernfs_parent(v1) ? v1 : kn;
}

struct ew_cgroup_walk {
	struct kernfs_node *kn;
	/* Offsets in the data area of the first name and of the next one. */
	__u32 start;
	__u32 pos;
	bool truncated;
	bool finished;
};

/* Appends the name of one cgroup, NUL-terminated, and moves to its parent.
 * The names go leaf first, because a walk cut short should keep the names
 * nearest the task, which name its container. User space puts them in
 * root-first order. Every copy has the same bound and the length is
 * checked only between copies, so the verifier need not track it. The
 * last copy may pass the cap by one name, which fits in the data area's
 * slack. */
static long ew_cgroup_walk_step(__u32 index, void *context)
{
	struct ew_cgroup_walk *w = context;
	/* Read through a local: a CO-RE read must not start at a field of
	 * this program's own struct. */
	struct kernfs_node *kn = w->kn;
	struct kernfs_node *parent = ew_kernfs_parent(kn);
	struct ew_scratch *s;
	__u32 cpu = bpf_get_smp_processor_id();
	long copied;

	/* The root's own name is left out. */
	if (!parent) {
		w->finished = true;
		return 1;
	}
	if (w->pos - w->start >= EW_CGROUP_PATH_MAX) {
		w->truncated = true;
		return 1;
	}
	s = bpf_map_lookup_elem(&scratch, &cpu);
	if (!s)
		return 1;
	copied = bpf_probe_read_kernel_str(&s->data[w->pos & EW_DATA_MASK],
					   EW_NAME_MAX + 1,
					   BPF_CORE_READ(kn, name));
	if (copied > 0)
		w->pos += copied & (2 * EW_NAME_MAX + 1);
	w->kn = parent;
	return 0;
}

/* Writes the names of the task's cgroup and its ancestors up to the
 * hierarchy's root, as named from the initial cgroup namespace, so that a
 * container id is found even when the task has its own cgroup namespace. */
static __always_inline __u32 ew_put_cgroup_path(struct ew_scratch *s,
						__u32 pos,
						struct task_struct *task)
{
	struct ew_exec_record *r = &s->record;
	struct kernfs_node *kn = ew_cgroup_node(task);
	struct ew_cgroup_walk w = { .kn = kn, .start = pos, .pos = pos };

	r->cgroup_path.offset = sizeof(*r) + pos;
	r->cgroup_path.length = 0;
	if (!kn)
		return pos;
	/* The id of the cgroup the path names, which on a v1-only host is
	 * not the default hierarchy's root that bpf_get_current_cgroup_id()
	 * gives. */
	r->cgroup_id = BPF_CORE_READ(kn, id);
	bpf_loop(EW_CGROUP_DEPTH_MAX, ew_cgroup_walk_step, &w, 0);
	if (w.truncated || !w.finished)
		r->flags |= EW_FLAG_CGROUP_PATH_TRUNCATED;
	r->cgroup_path.length = w.pos - pos;
	return w.pos;
}

/* Whether an entry of process_args belongs to the process that started at
 * start_time_ns, not to an earlier holder of its pid. */
static __always_inline bool ew_same_start(const struct ew_process_args *e,
					  __u64 start_time_ns)
{
	__u64 granularity = e->start_time_granularity_ns;

	if (!granularity)
		return e->start_time_ns == start_time_ns;
	return e->start_time_ns / granularity == start_time_ns / granularity;
}

/* Writes the argv the parent had at its own exec, kept in process_args. */
static __always_inline __u32 ew_put_parent_args(struct ew_scratch *s,
						__u32 pos)
{
	struct ew_exec_record *r = &s->record;
	struct ew_process_args *e;
	__u32 tgid = r->ppid, length;

	r->parent_args.offset = sizeof(*r) + pos;
	r->parent_args.length = 0;
	r->parent_argc = 0;
	/* A kernel thread has no argv: nothing to look up. */
	if (r->flags & EW_FLAG_PARENT_NO_EXE)
		return pos;
	e = bpf_map_lookup_elem(&process_args, &tgid);
	if (!e || !ew_same_start(e, r->parent_start_time_ns) ||
	    (e->flags & EW_FLAG_PARENT_ARGS_UNKNOWN)) {
		r->flags |= EW_FLAG_PARENT_ARGS_UNKNOWN;
		return pos;
	}
	length = e->length;
	if (length > EW_PARENT_ARGS_MAX)
		length = EW_PARENT_ARGS_MAX;
	/* Already at most EW_PARENT_ARGS_MAX: the mask shows the verifier. */
	length &= EW_WRITE_MAX - 1;
	if (length && bpf_probe_read_kernel(&s->data[pos & EW_DATA_MASK],
					    length, e->args)) {
		r->flags |= EW_FLAG_PARENT_ARGS_UNKNOWN;
		return pos;
	}
	r->parent_argc = e->argc;
	r->flags |= e->flags & EW_FLAG_PARENT_ARGS_TRUNCATED;
	r->parent_args.length = length;
	return pos + length;
}

static __always_inline void ew_count(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &index);

	if (value)
		*value += 1;
}

static __always_inline void ew_note_fill(__u32 ring, __u64 bytes)
{
	__u64 *fill = bpf_map_lookup_elem(&ring_fill, &ring);

	if (fill)
		*fill = bytes;
}

/* Fills an entry of process_args with the new image's argv. */
static __always_inline void ew_fill_args_entry(struct ew_process_args *e,
					       struct task_struct *task,
					       struct linux_binprm *bprm)
{
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	__u64 length = end > start ? end - start : 0;
	__u32 flags = 0;

	if (length > EW_PARENT_ARGS_MAX) {
		length = EW_PARENT_ARGS_MAX;
		flags = EW_FLAG_PARENT_ARGS_TRUNCATED;
	}
	if (length && bpf_probe_read_user(e->args, length, (void *)start)) {
		length = 0;
		flags = EW_FLAG_PARENT_ARGS_UNKNOWN;
	}
	e->start_time_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	e->start_time_granularity_ns = 0;
	e->argc = BPF_CORE_READ(bprm, argc);
	e->length = length;
	e->flags = flags;
}

/* Keeps the new image's argv for the records of its future children.
 * Runs for every exec, filtered or not: any process may become a parent.
 * A process forked from a known one already has an entry, which is
 * rewritten in place: that copies only the argv, not a whole entry. */
static __always_inline void ew_keep_args(struct ew_scratch *s,
					 struct task_struct *task,
					 struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct ew_process_args *e = bpf_map_lookup_elem(&process_args, &tgid);

	/* NOTE: a child of this process that runs exec at this very moment
	 * may read an entry half rewritten. */
	if (e) {
		ew_fill_args_entry(e, task, bprm);
		return;
	}
	ew_fill_args_entry(&s->process_args, task, bprm);
	if (bpf_map_update_elem(&process_args, &tgid, &s->process_args,
				BPF_ANY))
		ew_count(EW_COUNTER_ARGS_NOT_KEPT);
}

#define EW_ROW(base) \
	base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, \
		base + 7, base + 8, base + 9, base + 10, base + 11, base + 12, \
		base + 13, base + 14, base + 15
#define EW_ROW_LOWER_A(base) \
	base, base + 33, base + 34, base + 35, base + 36, base + 37, \
		base + 38, base + 39, base + 40, base + 41, base + 42, \
		base + 43, base + 44, base + 45, base + 46, base + 47
#define EW_ROW_LOWER_P(base) \
	base + 32, base + 33, base + 34, base + 35, base + 36, base + 37, \
		base + 38, base + 39, base + 40, base + 41, base + 42, \
		base + 11, base + 12, base + 13, base + 14, base + 15

/* Each byte's ASCII lowercase. A table, not comparisons: a branch a byte
 * would multiply the states the verifier explores. */
static const __u8 ew_ascii_lower[256] = {
	EW_ROW(0x00), EW_ROW(0x10), EW_ROW(0x20), EW_ROW(0x30),
	EW_ROW_LOWER_A(0x40), EW_ROW_LOWER_P(0x50), EW_ROW(0x60), EW_ROW(0x70),
	EW_ROW(0x80), EW_ROW(0x90), EW_ROW(0xa0), EW_ROW(0xb0),
	EW_ROW(0xc0), EW_ROW(0xd0), EW_ROW(0xe0), EW_ROW(0xf0),
};

/* Lowercases the ASCII letters of a key. */
static __always_inline void ew_lowercase(struct ew_prefilter_key *key)
{
	for (int i = 0; i < EW_PREFILTER_NAME_MAX; i++)
		key->name[i] = ew_ascii_lower[(__u8)key->name[i]];
}

/* Whether the file's own name or the new comm is one a rule may match. */
static __always_inline bool ew_prefilter_passes(struct ew_scratch *s,
						struct task_struct *task,
						struct linux_binprm *bprm)
{
	struct ew_prefilter_key *key = &s->key;

	__builtin_memset(key, 0, sizeof(*key));
	bpf_probe_read_kernel_str(
		key->name, sizeof(key->name),
		BPF_CORE_READ(bprm, file, f_path.dentry, d_name.name));
	ew_lowercase(key);
	if (bpf_map_lookup_elem(&executable_names, key))
		return true;

	__builtin_memset(key, 0, sizeof(*key));
	bpf_probe_read_kernel_str(key->name, EW_COMM_LEN, task->comm);
	ew_lowercase(key);
	return bpf_map_lookup_elem(&process_names, key) != NULL;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ew_sched_process_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 cpu = bpf_get_smp_processor_id(), zero = 0;
	struct ew_scratch *s = bpf_map_lookup_elem(&scratch, &cpu);
	struct ew_config *settings = bpf_map_lookup_elem(&config, &zero);
	struct ew_exec_record *r;
	struct task_struct *thread, *parent;
	struct ew_root root;
	__u64 pos, size, wakeup;
	__u32 flags;
	bool candidate;

	if (!s || !settings) {
		ew_count(EW_COUNTER_NO_SCRATCH);
		return 0;
	}
	flags = settings->flags;
	ew_keep_args(s, task, bprm);
	candidate = (flags & EW_CONFIG_PASS_ALL) ||
		    ew_prefilter_passes(s, task, bprm);
	if (!candidate && !(flags & EW_CONFIG_EMIT_EVENTS)) {
		ew_count(EW_COUNTER_FILTERED);
		return 0;
	}

	r = &s->record;
	r->version = EW_RECORD_VERSION;
	r->header_size = sizeof(*r);
	r->flags = 0;
	r->event_time_ns = bpf_ktime_get_boot_ns();
	r->tid = old_pid;
	ew_fill_task(r, task);

	thread = BPF_CORE_READ(task, real_parent);
	parent = BPF_CORE_READ(thread, group_leader);
	ew_fill_parent(r, task, parent);

	/* Arguments go first, at a fixed offset, so the verifier can bound the
	 * one large copy without masking. */
	pos = ew_read_args(s, task, bprm);

	ew_read_root(&root, task, BPF_CORE_READ(task, fs));
	pos = ew_put_file_path(s, pos, BPF_CORE_READ(bprm, file), &root,
			       &r->executable, &ew_executable_flags);
	pos = ew_put_parent_path(s, pos, parent, thread, &root);
	pos = ew_put_script(s, pos, task, bprm, &root);
	pos = ew_put_cgroup_path(s, pos, task);
	pos = ew_put_parent_args(s, pos);

	size = sizeof(*r) + pos;
	barrier_var(size);
	if (size > sizeof(s->record) + sizeof(s->data))
		size = sizeof(s->record) + sizeof(s->data);
	r->size = size;

	if (candidate) {
		/* Flags 0: the kernel wakes the reader when it has caught up,
		 * so an alert is seen at once. */
		if (bpf_ringbuf_output(&rules_ring, s, size, 0)) {
			ew_count(EW_COUNTER_RULES_RING_FULL);
			return 0;
		}
		ew_count(EW_COUNTER_RULES_SENT);
		ew_note_fill(EW_RING_FILL_RULES,
			     bpf_ringbuf_query(&rules_ring, BPF_RB_AVAIL_DATA));
		return 0;
	}

	/* Waking the reader costs more than the rest of this program, so
	 * telemetry wakes it only once enough is waiting. User space also
	 * reads the ring at a short interval. */
	wakeup = bpf_ringbuf_query(&events_ring, BPF_RB_AVAIL_DATA) + size >=
			 settings->events_wakeup_bytes ?
		 BPF_RB_FORCE_WAKEUP :
		 BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&events_ring, s, size, wakeup)) {
		ew_count(EW_COUNTER_EVENTS_RING_FULL);
		return 0;
	}
	ew_count(EW_COUNTER_EVENTS_SENT);
	ew_note_fill(EW_RING_FILL_EVENTS,
		     bpf_ringbuf_query(&events_ring, BPF_RB_AVAIL_DATA));
	return 0;
}

/* A new process inherits its parent's argv until it execs, so it inherits
 * the parent's entry too. Threads share their process's entry. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ew_sched_process_fork, struct task_struct *parent,
	     struct task_struct *child)
{
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	struct ew_process_args *e;

	if (child_tgid == parent_tgid)
		return 0;
	e = bpf_map_lookup_elem(&process_args, &parent_tgid);
	if (!e)
		return 0;
	if (bpf_map_update_elem(&process_args, &child_tgid, e, BPF_ANY)) {
		ew_count(EW_COUNTER_ARGS_NOT_KEPT);
		return 0;
	}
	/* The child has not run yet, so no record reads its entry before
	 * it carries the child's own start time. */
	e = bpf_map_lookup_elem(&process_args, &child_tgid);
	if (e) {
		e->start_time_ns = BPF_CORE_READ(child, start_boottime);
		e->start_time_granularity_ns = 0;
	}
	return 0;
}

/* Forgets a process's argv when its last thread exits. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ew_sched_process_exit, struct task_struct *task)
{
	__u32 tgid;

	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	bpf_map_delete_elem(&process_args, &tgid);
	return 0;
}

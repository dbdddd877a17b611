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

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} events SEC(".maps");

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

static __always_inline __u32 ew_put_cgroup_name(struct ew_scratch *s,
						__u32 pos,
						struct task_struct *task)
{
	struct ew_exec_record *r = &s->record;
	const char *name = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, name);
	long length;

	r->cgroup_name.offset = sizeof(*r) + pos;
	r->cgroup_name.length = 0;
	if (!name)
		return pos;
	length = bpf_probe_read_kernel_str(&s->data[pos & EW_DATA_MASK],
					   EW_CGROUP_NAME_MAX, name);
	if (length <= 1)
		return pos;
	/* The count includes the NUL, which the span leaves out. */
	r->cgroup_name.length = length - 1;
	return pos + length - 1;
}

static __always_inline void ew_count(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &index);

	if (value)
		*value += 1;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ew_sched_process_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct ew_scratch *s = bpf_map_lookup_elem(&scratch, &cpu);
	struct ew_exec_record *r;
	struct task_struct *thread, *parent;
	struct ew_root root;
	__u64 pos, size;

	if (!s) {
		ew_count(EW_COUNTER_NO_SCRATCH);
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
	pos = ew_put_cgroup_name(s, pos, task);

	size = sizeof(*r) + pos;
	barrier_var(size);
	if (size > sizeof(*s))
		size = sizeof(*s);
	r->size = size;

	if (bpf_ringbuf_output(&events, s, size, 0)) {
		ew_count(EW_COUNTER_RING_FULL);
		return 0;
	}
	ew_count(EW_COUNTER_SENT);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-only types and helpers of the exec probe: the scratch layout, the
 * path walk state, and reading the task, its parent and its arguments.
 */
#ifndef EXECWARDEN_BPF_H
#define EXECWARDEN_BPF_H

/* Variable data is written at data[pos & EW_DATA_MASK] with at most
 * EW_WRITE_MAX bytes a write, so the verifier can prove every write stays in
 * the map value. EW_DATA_SIZE exceeds everything one record can carry. */
#define EW_DATA_SIZE (1u << 19)
#define EW_DATA_MASK (EW_DATA_SIZE - 1)
#define EW_WRITE_MAX EW_PATH_MAX
#define EW_NAME_MAX 255

/* Components kept while walking a path. The walk keeps the most recent
 * ones, which are those nearest the root, so a path with more components is
 * sent as a prefix. */
#define EW_COMPONENTS_MAX 1024
#define EW_COMPONENTS_MASK (EW_COMPONENTS_MAX - 1)
/* Steps of one walk: components plus mount crossings. Mounts stacked on one
 * directory each cost a step, so the limit is well above any real path. */
#define EW_WALK_STEPS_MAX 16384

/* Cgroups nested deeper than this are sent as a prefix with a flag. */
#define EW_CGROUP_DEPTH_MAX 128

/* Everything one record carries fits in EW_DATA_SIZE. */
_Static_assert(EW_ARGS_MAX + 4 * EW_PATH_MAX + EW_CGROUP_PATH_MAX +
		       EW_PARENT_ARGS_MAX < EW_DATA_SIZE,
	       "record data does not fit in the scratch area");
_Static_assert(EW_PARENT_ARGS_MAX <= EW_WRITE_MAX, "parent args in one write");

struct ew_scratch {
	struct ew_exec_record record;
	char data[EW_DATA_SIZE + EW_WRITE_MAX];
	/* The entry this exec leaves for its children's records. */
	struct ew_process_args process_args;
	struct ew_prefilter_key key;
};

struct ew_component {
	__u64 name;
	__u32 length;
	__u32 pad;
};

struct ew_components {
	struct ew_component items[EW_COMPONENTS_MAX];
};

/* The root a path is walked up to: a task's fs->root, copied field by field
 * so that this local layout needs no relocation, and the task's mount
 * namespace. */
struct ew_root {
	struct vfsmount *mnt;
	struct dentry *dentry;
	struct mnt_namespace *mnt_ns;
};

static __always_inline void ew_read_root(struct ew_root *root,
					 struct task_struct *task,
					 struct fs_struct *fs)
{
	root->mnt = BPF_CORE_READ(fs, root.mnt);
	root->dentry = BPF_CORE_READ(fs, root.dentry);
	root->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns);
}

/* State of one path walk, shared with the bpf_loop callbacks. */
struct ew_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	struct mnt_namespace *own_ns;
	__u32 count;
	bool pseudo;
	/* The walk stopped at a root or a pseudo file, not at the step limit. */
	bool finished;
	/* The walk stopped at the top of a mount tree that is not in the
	 * task's own mount namespace: a detached mount, or a file from
	 * another namespace. */
	bool unreachable;
	/* State of the render pass. */
	__u32 pos;
	__u32 written;
	/* 0 or 1, and an integer so that returning it from a bpf_loop
	 * callback keeps the value range the verifier requires. */
	__u32 truncated;
	/* A name was shorter than its recorded length: renamed meanwhile. */
	bool unstable;
};

/* The record flags one path sets. */
struct ew_path_flags {
	__u32 truncated;
	__u32 incomplete;
	__u32 unreachable;
	__u32 deleted;
	__u32 pseudo;
	__u32 memfd;
};

static __always_inline struct mount *ew_real_mount(struct vfsmount *vfsmnt)
{
	return (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
}

static __always_inline struct upid *ew_upid(struct pid *pid, __u32 level)
{
	void *numbers = (void *)pid + bpf_core_field_offset(struct pid, numbers);

	return numbers + level * bpf_core_type_size(struct upid);
}

static __always_inline void ew_fill_task(struct ew_exec_record *r,
					 struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, cred);
	struct nsproxy *nsproxy = BPF_CORE_READ(task, nsproxy);
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	__u32 level = BPF_CORE_READ(pid, level);
	struct upid *upid = ew_upid(pid, level);

	r->pid = BPF_CORE_READ(task, tgid);
	r->start_time_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	r->uid = BPF_CORE_READ(cred, uid.val);
	r->euid = BPF_CORE_READ(cred, euid.val);
	r->gid = BPF_CORE_READ(cred, gid.val);
	r->egid = BPF_CORE_READ(cred, egid.val);
	r->cgroup_id = bpf_get_current_cgroup_id();
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), task->comm);

	r->ns_pid = BPF_CORE_READ(upid, nr);
	/* Each namespace type embeds its ns_common at its own offset, so each
	 * read is relocated against its own type. */
	r->ns_inum[EW_NS_PID] = BPF_CORE_READ(upid, ns, ns.inum);
	r->ns_inum[EW_NS_USER] = BPF_CORE_READ(cred, user_ns, ns.inum);
	r->ns_inum[EW_NS_MNT] = BPF_CORE_READ(nsproxy, mnt_ns, ns.inum);
	r->ns_inum[EW_NS_UTS] = BPF_CORE_READ(nsproxy, uts_ns, ns.inum);
	r->ns_inum[EW_NS_IPC] = BPF_CORE_READ(nsproxy, ipc_ns, ns.inum);
	r->ns_inum[EW_NS_NET] = BPF_CORE_READ(nsproxy, net_ns, ns.inum);
	r->ns_inum[EW_NS_CGROUP] = BPF_CORE_READ(nsproxy, cgroup_ns, ns.inum);
}

/* Fills the parent's ids, comm and start time. The parent is the group
 * leader of real_parent: real_parent itself is the thread that forked. */
static __always_inline void ew_fill_parent(struct ew_exec_record *r,
					   struct task_struct *task,
					   struct task_struct *parent)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	struct pid *parent_pid = BPF_CORE_READ(parent, thread_pid);
	__u32 level = BPF_CORE_READ(pid, level);
	struct upid *own = ew_upid(pid, level);
	struct upid *theirs;

	r->ppid = BPF_CORE_READ(parent, tgid);
	r->parent_start_time_ns = BPF_CORE_READ(parent, start_boottime);
	bpf_probe_read_kernel_str(r->parent_comm, sizeof(r->parent_comm),
				  parent->comm);

	r->ns_ppid = 0;
	if (!parent_pid || BPF_CORE_READ(parent_pid, level) < level)
		return;
	theirs = ew_upid(parent_pid, level);
	if (BPF_CORE_READ(theirs, ns) == BPF_CORE_READ(own, ns))
		r->ns_ppid = BPF_CORE_READ(theirs, nr);
}

/* Copies the argv area of the new image; returns the data bytes used. */
static __always_inline __u32 ew_read_args(struct ew_scratch *s,
					  struct task_struct *task,
					  struct linux_binprm *bprm)
{
	struct ew_exec_record *r = &s->record;
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	__u64 length = end > start ? end - start : 0;

	r->argc = BPF_CORE_READ(bprm, argc);
	r->args.offset = sizeof(*r);
	r->args.length = 0;
	if (length > EW_ARGS_MAX) {
		length = EW_ARGS_MAX;
		r->flags |= EW_FLAG_ARGS_TRUNCATED;
	}
	if (length == 0)
		return 0;
	if (bpf_probe_read_user(s->data, length, (void *)start)) {
		r->flags |= EW_FLAG_ARGS_UNREADABLE;
		return 0;
	}
	r->args.length = length;
	return length;
}

#endif /* EXECWARDEN_BPF_H */

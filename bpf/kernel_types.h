/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel types the exec probe reads, with only the fields it reads.
 *
 * Every struct is marked preserve_access_index, so libbpf relocates each
 * field access against the running kernel's BTF (CO-RE): the layouts here
 * need not match any kernel, only the names and types of the fields. This
 * replaces a generated vmlinux.h of several megabytes.
 */
#ifndef EXECWARDEN_KERNEL_TYPES_H
#define EXECWARDEN_KERNEL_TYPES_H

#include <linux/types.h>

typedef _Bool bool;
enum { false = 0, true = 1 };
typedef __u32 u32;
typedef __u64 u64;
typedef int pid_t;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct qstr {
	__u32 len;
	const unsigned char *name;
};

struct hlist_bl_node {
	struct hlist_bl_node *next, **pprev;
};

struct dentry {
	struct hlist_bl_node d_hash;
	struct dentry *d_parent;
	struct qstr d_name;
};

struct vfsmount {
	struct dentry *mnt_root;
};

struct mnt_namespace;

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	struct mnt_namespace *mnt_ns;
};

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
};

struct file {
	struct path f_path;
};

struct fs_struct {
	struct path root;
	struct path pwd;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	struct file *exe_file;
};

struct ns_common {
	unsigned int inum;
};

struct mnt_namespace { struct ns_common ns; };
struct uts_namespace { struct ns_common ns; };
struct ipc_namespace { struct ns_common ns; };
struct net { struct ns_common ns; };
struct cgroup_namespace { struct ns_common ns; };
struct pid_namespace { struct ns_common ns; };
struct user_namespace { struct ns_common ns; };

struct nsproxy {
	struct uts_namespace *uts_ns;
	struct ipc_namespace *ipc_ns;
	struct mnt_namespace *mnt_ns;
	struct net *net_ns;
	struct cgroup_namespace *cgroup_ns;
};

struct upid {
	int nr;
	struct pid_namespace *ns;
};

struct pid {
	unsigned int level;
	struct upid numbers[1];
};

typedef struct { unsigned int val; } kuid_t;
typedef struct { unsigned int val; } kgid_t;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t euid;
	kgid_t egid;
	struct user_namespace *user_ns;
};

/* Linux 6.15 renamed the parent pointer to __parent; older kernels are
 * matched through the ___old flavour. */
struct kernfs_node {
	struct kernfs_node *__parent;
	const char *name;
	u64 id;
};

struct kernfs_node___old {
	struct kernfs_node *parent;
};

struct cgroup {
	struct kernfs_node *kn;
};

struct cgroup_subsys_state {
	struct cgroup *cgroup;
};

enum cgroup_subsys_id {
	memory_cgrp_id = 4,
};

struct css_set {
	struct cgroup_subsys_state *subsys[12];
	struct cgroup *dfl_cgrp;
};

typedef struct { int counter; } atomic_t;

struct signal_struct {
	atomic_t live;
};

struct task_struct {
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct pid *thread_pid;
	u64 start_boottime;
	const struct cred *cred;
	struct mm_struct *mm;
	struct fs_struct *fs;
	struct nsproxy *nsproxy;
	struct css_set *cgroups;
	struct signal_struct *signal;
	char comm[16];
};

struct linux_binprm {
	struct file *file;
	int argc;
	const char *filename;
	const char *interp;
};

#pragma clang attribute pop

#endif /* EXECWARDEN_KERNEL_TYPES_H */

// Wrappers over the variadic prctl(2) and syscall(2), which Swift cannot
// call, for dropping privileges and probing for the bpf() system call.
#ifndef EXECWARDEN_PRIVILEGE_SHIM_H
#define EXECWARDEN_PRIVILEGE_SHIM_H

// Each returns 0 on success, or -1 with errno set.

// Sets no_new_privs on the calling thread (inherited by threads and
// children created afterwards).
int ew_set_no_new_privs(void);

// Removes `capability` from the bounding set of the calling thread.
// Fails with EPERM without CAP_SETPCAP and EINVAL past the last capability.
int ew_drop_bounding_capability(int capability);

// Clears the ambient capability set of the calling thread.
int ew_clear_ambient_capabilities(void);

// Empties the effective, permitted and inheritable capability sets of the
// calling thread with capset(2).
int ew_clear_capabilities(void);

// Sets the real, effective and saved group id (setresgid(2)), which
// glibc declares only with _GNU_SOURCE.
int ew_set_group_ids(unsigned int gid);

// Sets the real, effective and saved user id (setresuid(2)).
int ew_set_user_ids(unsigned int uid);

// Calls bpf(2) with an invalid command and always returns -1. The errno
// is ENOSYS when the kernel was built without CONFIG_BPF_SYSCALL.
int ew_probe_bpf_syscall(void);

#endif

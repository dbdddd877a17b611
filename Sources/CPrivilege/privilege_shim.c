#define _GNU_SOURCE
#include "privilege_shim.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int ew_set_no_new_privs(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int ew_drop_bounding_capability(int capability)
{
	return prctl(PR_CAPBSET_DROP, capability, 0, 0, 0);
}

int ew_clear_ambient_capabilities(void)
{
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

int ew_clear_capabilities(void)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	return (int)syscall(SYS_capset, &header, data);
}

int ew_set_group_ids(unsigned int gid)
{
	return setresgid(gid, gid, gid);
}

int ew_set_user_ids(unsigned int uid)
{
	return setresuid(uid, uid, uid);
}

int ew_probe_bpf_syscall(void)
{
	// No bpf command has this number; a kernel with bpf() returns EINVAL
	// (or EPERM when the caller may not use it).
	return (int)syscall(SYS_bpf, -1, NULL, 0);
}

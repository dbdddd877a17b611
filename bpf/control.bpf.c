// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's control: a program on the same tracepoint as the exec
 * probe that only counts execs, so a storm measured with it shows the cost
 * of having any BPF program there at all. execwarden-bench loads it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* One counter per CPU, so concurrent execs never contend on a cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} exec_count SEC(".maps");

SEC("tp_btf/sched_process_exec")
int ewb_control_exec(void *ctx)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&exec_count, &key);

	if (count)
		*count += 1;
	return 0;
}

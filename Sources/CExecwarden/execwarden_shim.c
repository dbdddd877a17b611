// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "execwarden_shim.h"

/* The record layout is shared with the BPF program; pin it down so that a
 * change on one side cannot go unnoticed. */
_Static_assert(sizeof(struct ew_exec_record) == 208, "record header size");
_Static_assert(offsetof(struct ew_exec_record, flags) == 8, "flags");
_Static_assert(offsetof(struct ew_exec_record, argc) == 48, "argc");
_Static_assert(offsetof(struct ew_exec_record, event_time_ns) == 56, "time");
_Static_assert(offsetof(struct ew_exec_record, ns_inum) == 88, "ns_inum");
_Static_assert(offsetof(struct ew_exec_record, comm) == 120, "comm");
_Static_assert(offsetof(struct ew_exec_record, args) == 152, "args");
_Static_assert(offsetof(struct ew_exec_record, cgroup_path) == 184, "cgroup");
_Static_assert(offsetof(struct ew_exec_record, script_directory) == 192,
	       "script_directory");
_Static_assert(offsetof(struct ew_exec_record, parent_args) == 200,
	       "parent_args");
_Static_assert(sizeof(struct ew_process_args) <= 4096 - 64,
	       "a process_args entry with its hash element fits 4 KiB");
_Static_assert(sizeof(struct ew_span) == 8, "span");

/* The context of a ring's callback: the probe and the ring it reads. */
struct ew_ring_context {
	struct ew_probe *probe;
	enum ew_ring ring;
};

#define EW_PROGRAM_COUNT 3

struct ew_probe {
	struct bpf_object *object;
	/* Exec, fork, exit, in the order of ew_program_names. */
	struct bpf_program *programs[EW_PROGRAM_COUNT];
	struct bpf_link *links[EW_PROGRAM_COUNT];
	struct ring_buffer *ring;
	struct ew_ring_context ring_contexts[2];
	ew_record_handler handler;
	void *handler_context;
	int counters_fd;
	int config_fd;
	int prefilter_fds[2];
	int process_args_fd;
	int ring_fill_fd;
	int cpu_count;
};

/* Attached in reverse: fork and exit before exec, so that from the first
 * exec record on, every new process's argv entry is kept. */
static const char *const ew_program_names[EW_PROGRAM_COUNT] = {
	"ew_sched_process_exec",
	"ew_sched_process_fork",
	"ew_sched_process_exit",
};

static int ew_verbose;
/* The latest libbpf messages, kept for error details when not verbose. */
static char ew_last_messages[8192];

static int ew_print(enum libbpf_print_level level, const char *format,
		    va_list args)
{
	char line[1024];
	size_t used, length;

	if (ew_verbose)
		return vfprintf(stderr, format, args);
	if (level == LIBBPF_DEBUG)
		return 0;

	vsnprintf(line, sizeof(line), format, args);
	length = strlen(line);
	used = strlen(ew_last_messages);
	if (used + length + 1 > sizeof(ew_last_messages)) {
		/* Keep the newest text: the verifier's verdict comes last. */
		size_t keep = sizeof(ew_last_messages) / 2;

		memmove(ew_last_messages, ew_last_messages + used - keep, keep);
		ew_last_messages[keep] = '\0';
		used = keep;
	}
	if (length + 1 <= sizeof(ew_last_messages) - used)
		memcpy(ew_last_messages + used, line, length + 1);
	return 0;
}

void ew_set_verbose(int verbose)
{
	ew_verbose = verbose;
	libbpf_set_print(ew_print);
}

static void ew_fail(struct ew_error *error, enum ew_stage stage, int err)
{
	size_t length, start = 0;

	if (!error)
		return;
	error->stage = stage;
	error->error_number = err < 0 ? -err : err;

	/* The tail of libbpf's messages, which ends with the verifier's
	 * verdict on a rejected program. */
	length = strlen(ew_last_messages);
	if (length >= sizeof(error->detail))
		start = length - sizeof(error->detail) + 1;
	memcpy(error->detail, ew_last_messages + start, length - start + 1);
}

static int ew_set_map_size(struct bpf_object *object, const char *name,
			   uint32_t size)
{
	struct bpf_map *map = bpf_object__find_map_by_name(object, name);

	return map ? bpf_map__set_max_entries(map, size) : -ENOENT;
}

static int ew_map_fd(struct bpf_object *object, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(object, name);

	return map ? bpf_map__fd(map) : -ENOENT;
}

struct ew_probe *ew_probe_open(uint32_t rules_ring_size,
			       uint32_t events_ring_size,
			       struct ew_error *error)
{
	LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = "execwarden");
	struct ew_probe *probe;
	struct bpf_map *map;
	int err;

	ew_last_messages[0] = '\0';
	probe = calloc(1, sizeof(*probe));
	if (!probe) {
		ew_fail(error, EW_STAGE_OPEN, ENOMEM);
		return NULL;
	}
	probe->counters_fd = -1;
	probe->config_fd = -1;
	probe->prefilter_fds[0] = probe->prefilter_fds[1] = -1;
	probe->process_args_fd = -1;
	probe->ring_fill_fd = -1;

	probe->object = bpf_object__open_mem(ew_bpf_object, ew_bpf_object_size,
					     &options);
	err = libbpf_get_error(probe->object);
	if (err) {
		probe->object = NULL;
		ew_fail(error, EW_STAGE_OPEN, err);
		goto cleanup;
	}

	probe->cpu_count = libbpf_num_possible_cpus();
	if (probe->cpu_count <= 0) {
		ew_fail(error, EW_STAGE_CONFIGURE, probe->cpu_count);
		goto cleanup;
	}
	/* One scratch slot per possible CPU; the program indexes by CPU. */
	err = ew_set_map_size(probe->object, "scratch", probe->cpu_count);
	if (!err && rules_ring_size)
		err = ew_set_map_size(probe->object, "rules_ring",
				      rules_ring_size);
	if (!err && events_ring_size)
		err = ew_set_map_size(probe->object, "events_ring",
				      events_ring_size);
	if (err) {
		ew_fail(error, EW_STAGE_CONFIGURE, err);
		goto cleanup;
	}
	return probe;

cleanup:
	ew_probe_close(probe);
	return NULL;
}

int ew_probe_load(struct ew_probe *probe, struct ew_error *error)
{
	int err;

	ew_last_messages[0] = '\0';
	err = bpf_object__load(probe->object);
	if (err) {
		ew_fail(error, EW_STAGE_LOAD, err);
		return -1;
	}
	probe->counters_fd = ew_map_fd(probe->object, "counters");
	probe->config_fd = ew_map_fd(probe->object, "config");
	probe->prefilter_fds[0] = ew_map_fd(probe->object, "executable_names");
	probe->prefilter_fds[1] = ew_map_fd(probe->object, "process_names");
	probe->process_args_fd = ew_map_fd(probe->object, "process_args");
	probe->ring_fill_fd = ew_map_fd(probe->object, "ring_fill");
	err = probe->ring_fill_fd < 0	     ? probe->ring_fill_fd :
	      probe->counters_fd < 0	     ? probe->counters_fd :
	      probe->config_fd < 0	     ? probe->config_fd :
	      probe->prefilter_fds[0] < 0   ? probe->prefilter_fds[0] :
	      probe->prefilter_fds[1] < 0   ? probe->prefilter_fds[1] :
	      probe->process_args_fd < 0    ? probe->process_args_fd :
					      0;
	if (err) {
		ew_fail(error, EW_STAGE_LOAD, err);
		return -1;
	}
	for (int i = 0; i < EW_PROGRAM_COUNT; i++) {
		probe->programs[i] = bpf_object__find_program_by_name(
			probe->object, ew_program_names[i]);
		if (!probe->programs[i]) {
			ew_fail(error, EW_STAGE_LOAD, ENOENT);
			return -1;
		}
	}
	return 0;
}

int ew_probe_configure(struct ew_probe *probe, const struct ew_config *config,
		       struct ew_error *error)
{
	uint32_t key = 0;

	if (bpf_map_update_elem(probe->config_fd, &key, config, BPF_ANY)) {
		ew_fail(error, EW_STAGE_CONFIGURE, errno);
		return -1;
	}
	return 0;
}

int ew_probe_set_prefilter_name(struct ew_probe *probe, int which,
				const struct ew_prefilter_key *key, int present,
				struct ew_error *error)
{
	uint8_t one = 1;
	int fd = probe->prefilter_fds[which ? 1 : 0];

	if (present ? bpf_map_update_elem(fd, key, &one, BPF_ANY) :
		      bpf_map_delete_elem(fd, key) && errno != ENOENT) {
		ew_fail(error, EW_STAGE_CONFIGURE, errno);
		return -1;
	}
	return 0;
}

int ew_probe_add_process_args(struct ew_probe *probe, uint32_t pid,
			      const struct ew_process_args *entry,
			      struct ew_error *error)
{
	if (bpf_map_update_elem(probe->process_args_fd, &pid, entry,
				BPF_NOEXIST) &&
	    errno != EEXIST) {
		ew_fail(error, EW_STAGE_CONFIGURE, errno);
		return -1;
	}
	return 0;
}

static int ew_ring_callback(void *context, void *data, size_t size)
{
	struct ew_ring_context *ring = context;

	return ring->probe->handler(ring->probe->handler_context, ring->ring,
				    data, size);
}

int ew_probe_attach(struct ew_probe *probe, ew_record_handler handler,
		    void *context, struct ew_error *error)
{
	int err;

	ew_last_messages[0] = '\0';
	probe->handler = handler;
	probe->handler_context = context;
	probe->ring_contexts[0] =
		(struct ew_ring_context){ probe, EW_RING_RULES };
	probe->ring_contexts[1] =
		(struct ew_ring_context){ probe, EW_RING_EVENTS };
	probe->ring = ring_buffer__new(ew_map_fd(probe->object, "rules_ring"),
				       ew_ring_callback,
				       &probe->ring_contexts[0], NULL);
	if (!probe->ring) {
		ew_fail(error, EW_STAGE_RING_BUFFER, errno);
		return -1;
	}
	err = ring_buffer__add(probe->ring,
			       ew_map_fd(probe->object, "events_ring"),
			       ew_ring_callback, &probe->ring_contexts[1]);
	if (err) {
		ew_fail(error, EW_STAGE_RING_BUFFER, err);
		return -1;
	}

	for (int i = EW_PROGRAM_COUNT - 1; i >= 0; i--) {
		probe->links[i] = bpf_program__attach(probe->programs[i]);
		err = libbpf_get_error(probe->links[i]);
		if (err) {
			probe->links[i] = NULL;
			ew_fail(error, EW_STAGE_ATTACH, err);
			return -1;
		}
	}
	return 0;
}

int ew_probe_poll(struct ew_probe *probe, int timeout_ms,
		  struct ew_error *error)
{
	int woken = ring_buffer__poll(probe->ring, timeout_ms);
	int consumed;

	if (woken < 0 && woken != -EINTR) {
		ew_fail(error, EW_STAGE_POLL, woken);
		return -1;
	}
	/* The events ring wakes its reader only once enough is waiting, and
	 * the poll reads only rings that woke it: read both. */
	consumed = ring_buffer__consume(probe->ring);
	if (consumed < 0) {
		ew_fail(error, EW_STAGE_POLL, consumed);
		return -1;
	}
	return (woken > 0 ? woken : 0) + consumed;
}

int ew_probe_consume(struct ew_probe *probe, struct ew_error *error)
{
	int consumed = ring_buffer__consume(probe->ring);

	if (consumed < 0) {
		ew_fail(error, EW_STAGE_POLL, consumed);
		return -1;
	}
	return consumed;
}

int ew_probe_read_counters(struct ew_probe *probe, struct ew_counters *counters,
			   struct ew_error *error)
{
	uint64_t per_cpu[probe->cpu_count];
	struct bpf_prog_info info = {};
	__u32 info_length = sizeof(info);

	for (uint32_t index = 0; index < EW_COUNTER_COUNT; index++) {
		counters->values[index] = 0;
		if (bpf_map_lookup_elem(probe->counters_fd, &index, per_cpu)) {
			ew_fail(error, EW_STAGE_COUNTERS, errno);
			return -1;
		}
		for (int cpu = 0; cpu < probe->cpu_count; cpu++)
			counters->values[index] += per_cpu[cpu];
	}

	for (uint32_t ring = 0; ring < 2; ring++) {
		if (bpf_map_lookup_elem(probe->ring_fill_fd, &ring,
					&counters->ring_fill[ring])) {
			ew_fail(error, EW_STAGE_COUNTERS, errno);
			return -1;
		}
	}

	counters->recursion_misses = 0;
	counters->process_recursion_misses = 0;
	for (int i = 0; i < EW_PROGRAM_COUNT; i++) {
		if (!probe->programs[i])
			continue;
		memset(&info, 0, sizeof(info));
		info_length = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(probe->programs[i]),
					   &info, &info_length)) {
			ew_fail(error, EW_STAGE_COUNTERS, errno);
			return -1;
		}
		if (i == 0)
			counters->recursion_misses = info.recursion_misses;
		else
			counters->process_recursion_misses +=
				info.recursion_misses;
	}
	return 0;
}

void ew_probe_detach(struct ew_probe *probe)
{
	for (int i = 0; i < EW_PROGRAM_COUNT; i++) {
		bpf_link__destroy(probe->links[i]);
		probe->links[i] = NULL;
	}
}

void ew_release_free_memory(void)
{
	malloc_trim(0);
}

void ew_probe_close(struct ew_probe *probe)
{
	if (!probe)
		return;
	ring_buffer__free(probe->ring);
	ew_probe_detach(probe);
	bpf_object__close(probe->object);
	free(probe);
}

struct ew_record_layout ew_record_layout(void)
{
	return (struct ew_record_layout){
		.header_size = sizeof(struct ew_exec_record),
		.flags = offsetof(struct ew_exec_record, flags),
		.pid = offsetof(struct ew_exec_record, pid),
		.argc = offsetof(struct ew_exec_record, argc),
		.event_time_ns = offsetof(struct ew_exec_record, event_time_ns),
		.cgroup_id = offsetof(struct ew_exec_record, cgroup_id),
		.ns_inum = offsetof(struct ew_exec_record, ns_inum),
		.comm = offsetof(struct ew_exec_record, comm),
		.parent_comm = offsetof(struct ew_exec_record, parent_comm),
		.args = offsetof(struct ew_exec_record, args),
		.executable = offsetof(struct ew_exec_record, executable),
		.parent_executable =
			offsetof(struct ew_exec_record, parent_executable),
		.script = offsetof(struct ew_exec_record, script),
		.cgroup_path = offsetof(struct ew_exec_record, cgroup_path),
		.script_directory =
			offsetof(struct ew_exec_record, script_directory),
		.parent_args = offsetof(struct ew_exec_record, parent_args),
	};
}

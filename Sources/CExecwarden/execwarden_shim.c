// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
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
_Static_assert(sizeof(struct ew_exec_record) == 200, "record header size");
_Static_assert(offsetof(struct ew_exec_record, flags) == 8, "flags");
_Static_assert(offsetof(struct ew_exec_record, argc) == 48, "argc");
_Static_assert(offsetof(struct ew_exec_record, event_time_ns) == 56, "time");
_Static_assert(offsetof(struct ew_exec_record, ns_inum) == 88, "ns_inum");
_Static_assert(offsetof(struct ew_exec_record, comm) == 120, "comm");
_Static_assert(offsetof(struct ew_exec_record, args) == 152, "args");
_Static_assert(offsetof(struct ew_exec_record, cgroup_name) == 184, "cgroup");
_Static_assert(offsetof(struct ew_exec_record, script_directory) == 192,
	       "script_directory");
_Static_assert(sizeof(struct ew_span) == 8, "span");

struct ew_probe {
	struct bpf_object *object;
	struct bpf_program *program;
	struct bpf_link *link;
	struct ring_buffer *ring;
	int counters_fd;
	int cpu_count;
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

struct ew_probe *ew_probe_open(uint32_t ring_size, struct ew_error *error)
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
	map = bpf_object__find_map_by_name(probe->object, "scratch");
	err = map ? bpf_map__set_max_entries(map, probe->cpu_count) : -ENOENT;
	if (err) {
		ew_fail(error, EW_STAGE_CONFIGURE, err);
		goto cleanup;
	}
	if (ring_size) {
		map = bpf_object__find_map_by_name(probe->object, "events");
		err = map ? bpf_map__set_max_entries(map, ring_size) : -ENOENT;
		if (err) {
			ew_fail(error, EW_STAGE_CONFIGURE, err);
			goto cleanup;
		}
	}
	return probe;

cleanup:
	ew_probe_close(probe);
	return NULL;
}

int ew_probe_load(struct ew_probe *probe, struct ew_error *error)
{
	struct bpf_map *counters;
	int err;

	ew_last_messages[0] = '\0';
	err = bpf_object__load(probe->object);
	if (err) {
		ew_fail(error, EW_STAGE_LOAD, err);
		return -1;
	}
	counters = bpf_object__find_map_by_name(probe->object, "counters");
	probe->counters_fd = counters ? bpf_map__fd(counters) : -ENOENT;
	if (probe->counters_fd < 0) {
		ew_fail(error, EW_STAGE_LOAD, probe->counters_fd);
		return -1;
	}
	return 0;
}

int ew_probe_attach(struct ew_probe *probe, ew_record_handler handler,
		    void *context, struct ew_error *error)
{
	struct bpf_program *program;
	struct bpf_map *events;
	int err;

	ew_last_messages[0] = '\0';
	events = bpf_object__find_map_by_name(probe->object, "events");
	if (!events) {
		ew_fail(error, EW_STAGE_RING_BUFFER, ENOENT);
		return -1;
	}
	probe->ring = ring_buffer__new(bpf_map__fd(events),
				       (ring_buffer_sample_fn)handler, context,
				       NULL);
	if (!probe->ring) {
		ew_fail(error, EW_STAGE_RING_BUFFER, errno);
		return -1;
	}

	program = bpf_object__find_program_by_name(probe->object,
						   "ew_sched_process_exec");
	if (!program) {
		ew_fail(error, EW_STAGE_ATTACH, ENOENT);
		return -1;
	}
	probe->program = program;
	probe->link = bpf_program__attach(program);
	err = libbpf_get_error(probe->link);
	if (err) {
		probe->link = NULL;
		ew_fail(error, EW_STAGE_ATTACH, err);
		return -1;
	}
	return 0;
}

int ew_probe_poll(struct ew_probe *probe, int timeout_ms,
		  struct ew_error *error)
{
	int consumed = ring_buffer__poll(probe->ring, timeout_ms);

	if (consumed == -EINTR)
		return 0;
	if (consumed < 0) {
		ew_fail(error, EW_STAGE_POLL, consumed);
		return -1;
	}
	return consumed;
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

	counters->recursion_misses = 0;
	if (!probe->program)
		return 0;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(probe->program), &info,
				   &info_length)) {
		ew_fail(error, EW_STAGE_COUNTERS, errno);
		return -1;
	}
	counters->recursion_misses = info.recursion_misses;
	return 0;
}

void ew_probe_detach(struct ew_probe *probe)
{
	bpf_link__destroy(probe->link);
	probe->link = NULL;
}

void ew_probe_close(struct ew_probe *probe)
{
	if (!probe)
		return;
	ring_buffer__free(probe->ring);
	bpf_link__destroy(probe->link);
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
		.cgroup_name = offsetof(struct ew_exec_record, cgroup_name),
		.script_directory =
			offsetof(struct ew_exec_record, script_directory),
	};
}

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small C layer over libbpf for the Swift loader: open the embedded BPF
 * object, size its maps, load, attach, consume the ring buffer and read the
 * counters. Each call reads errno right after the libbpf call it wraps and
 * reports the stage that failed, so Swift never has to.
 */
#ifndef EXECWARDEN_SHIM_H
#define EXECWARDEN_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include "execwarden_record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The prebuilt BPF object, embedded by bpf/embed-object.sh. */
extern const unsigned char ew_bpf_object[];
extern const size_t ew_bpf_object_size;

enum ew_stage {
	EW_STAGE_NONE,
	EW_STAGE_OPEN,
	EW_STAGE_CONFIGURE,
	EW_STAGE_LOAD,
	EW_STAGE_ATTACH,
	EW_STAGE_RING_BUFFER,
	EW_STAGE_POLL,
	EW_STAGE_COUNTERS,
};

/* A failure: the stage, the positive errno, and libbpf's last messages. */
struct ew_error {
	enum ew_stage stage;
	int error_number;
	char detail[1024];
};

struct ew_probe;

/* Called once per record, with memory valid only during the call. A
 * non-zero return stops the current poll and is returned by it. */
typedef int (*ew_record_handler)(void *context, const void *data, size_t size);

/* Forwards libbpf's messages to stderr when verbose is non-zero; otherwise
 * keeps the latest ones for error details. Process-wide, as libbpf's own
 * print hook is. */
void ew_set_verbose(int verbose);

/* Opens the embedded object. ring_size is the ring buffer size in bytes (a
 * power of two, a multiple of the page size), or 0 for the default. */
struct ew_probe *ew_probe_open(uint32_t ring_size, struct ew_error *error);

/* Verifies and loads the programs and maps into the kernel. */
int ew_probe_load(struct ew_probe *probe, struct ew_error *error);

/* Attaches the loaded program to sched_process_exec and sets up the
 * ring-buffer consumer that calls handler. */
int ew_probe_attach(struct ew_probe *probe, ew_record_handler handler,
		    void *context, struct ew_error *error);

/* Waits up to timeout_ms for records and consumes all that are ready.
 * Returns the number consumed, or -1 with error filled. An interrupted wait
 * returns 0. */
int ew_probe_poll(struct ew_probe *probe, int timeout_ms,
		  struct ew_error *error);

/* Consumes the records that are ready without waiting. */
int ew_probe_consume(struct ew_probe *probe, struct ew_error *error);

/* Detaches the program, so no new records arrive; what is in the ring can
 * still be consumed. */
void ew_probe_detach(struct ew_probe *probe);

/* Kernel-side counts of the probe. */
struct ew_counters {
	/* The program's per-CPU counters (enum ew_counter_index), summed. */
	uint64_t values[EW_COUNTER_COUNT];
	/* Runs the kernel skipped because the program was already running on
	 * that CPU (bpf_prog_info.recursion_misses): execs never seen. */
	uint64_t recursion_misses;
};

int ew_probe_read_counters(struct ew_probe *probe, struct ew_counters *counters,
			   struct ew_error *error);

/* Detaches and frees everything; accepts NULL. */
void ew_probe_close(struct ew_probe *probe);

/* Offsets of the record header as this C compiler lays it out, for the
 * Swift test that checks the decoder against them. */
struct ew_record_layout {
	uint32_t header_size;
	uint32_t flags;
	uint32_t pid;
	uint32_t argc;
	uint32_t event_time_ns;
	uint32_t cgroup_id;
	uint32_t ns_inum;
	uint32_t comm;
	uint32_t parent_comm;
	uint32_t args;
	uint32_t executable;
	uint32_t parent_executable;
	uint32_t script;
	uint32_t cgroup_name;
	uint32_t script_directory;
};

struct ew_record_layout ew_record_layout(void);

#ifdef __cplusplus
}
#endif

#endif /* EXECWARDEN_SHIM_H */

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

/* The ring a record came through. */
enum ew_ring {
	EW_RING_RULES,
	EW_RING_EVENTS,
};

/* Called once per record, with memory valid only during the call. A
 * non-zero return stops the current poll and is returned by it. */
typedef int (*ew_record_handler)(void *context, enum ew_ring ring,
				 const void *data, size_t size);

/* Forwards libbpf's messages to stderr when verbose is non-zero; otherwise
 * keeps the latest ones for error details. Process-wide, as libbpf's own
 * print hook is. */
void ew_set_verbose(int verbose);

/* Opens the embedded object. The ring sizes are in bytes (a power of two, a
 * multiple of the page size), or 0 for the object's default. */
struct ew_probe *ew_probe_open(uint32_t rules_ring_size,
			       uint32_t events_ring_size,
			       struct ew_error *error);

/* Verifies and loads the programs and maps into the kernel. */
int ew_probe_load(struct ew_probe *probe, struct ew_error *error);

/* Writes the probe's settings (struct ew_config). */
int ew_probe_configure(struct ew_probe *probe, const struct ew_config *config,
		       struct ew_error *error);

/* Adds (present non-zero) or removes a name of the prefilter; which is 0
 * for executable file names, 1 for comms. The key is used as given. */
int ew_probe_set_prefilter_name(struct ew_probe *probe, int which,
				const struct ew_prefilter_key *key, int present,
				struct ew_error *error);

/* Stores the argv of a process that started before the probe, unless the
 * probe already stored one for it. */
int ew_probe_add_process_args(struct ew_probe *probe, uint32_t pid,
			      const struct ew_process_args *entry,
			      struct ew_error *error);

/* Attaches the programs (fork and exit first, so no process is missed
 * between them and exec) and sets up the consumer of both rings that calls
 * handler. */
int ew_probe_attach(struct ew_probe *probe, ew_record_handler handler,
		    void *context, struct ew_error *error);

/* Waits up to timeout_ms for records and consumes all that are ready.
 * Returns the number consumed, or -1 with error filled. An interrupted wait
 * returns 0. */
int ew_probe_poll(struct ew_probe *probe, int timeout_ms,
		  struct ew_error *error);

/* Consumes the records that are ready without waiting. */
int ew_probe_consume(struct ew_probe *probe, struct ew_error *error);

/* Detaches the programs, so no new records arrive; what is in the rings can
 * still be consumed. */
void ew_probe_detach(struct ew_probe *probe);

/* Kernel-side counts of the probe. */
struct ew_counters {
	/* The program's per-CPU counters (enum ew_counter_index), summed. */
	uint64_t values[EW_COUNTER_COUNT];
	/* Runs the kernel skipped because the exec program was already running
	 * on that CPU (bpf_prog_info.recursion_misses): execs never seen. */
	uint64_t recursion_misses;
	/* The same for the fork and exit programs: processes whose argv
	 * entry was not copied or not removed. */
	uint64_t process_recursion_misses;
	/* Bytes waiting in each ring (enum ew_ring_fill_index) after its
	 * latest record. */
	uint64_t ring_fill[2];
};

int ew_probe_read_counters(struct ew_probe *probe, struct ew_counters *counters,
			   struct ew_error *error);

/* Returns free heap memory to the kernel (malloc_trim). */
void ew_release_free_memory(void);

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
	uint32_t cgroup_path;
	uint32_t script_directory;
	uint32_t parent_args;
};

struct ew_record_layout ew_record_layout(void);

#ifdef __cplusplus
}
#endif

#endif /* EXECWARDEN_SHIM_H */

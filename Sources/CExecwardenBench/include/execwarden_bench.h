/*
 * C side of execwarden-bench: the exec storm generator, the marker exec
 * used to time alerts, the control BPF program's loader, and BPF run-time
 * statistics. Everything here runs in forked children or in short calls,
 * so the Swift side never forks itself.
 */
#ifndef EXECWARDEN_BENCH_H
#define EXECWARDEN_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The control BPF object, embedded by 'make bpf' from bpf/control.bpf.o. */
extern const size_t ewb_control_object_size;
extern const unsigned char ewb_control_object[];

/* The way each storm iteration starts its child. */
enum ewb_storm_method {
	EWB_STORM_FORK_EXEC = 0,
	EWB_STORM_VFORK_EXEC = 1,
	EWB_STORM_POSIX_SPAWN = 2,
	EWB_STORM_EXECVEAT = 3,
};

struct ewb_storm_config {
	int method;			/* enum ewb_storm_method */
	int workers;			/* processes starting children in parallel */
	uint64_t count;			/* total execs; 0 to run for duration_ns */
	uint64_t duration_ns;
	const char *path;		/* the executable, an absolute path */
	char *const *argv;		/* NULL-terminated */
	char *const *envp;		/* NULL-terminated */
};

struct ewb_storm_result {
	uint64_t execs;			/* children that exited with status 0 */
	uint64_t failures;		/* children that failed or could not start */
	uint64_t elapsed_ns;		/* CLOCK_MONOTONIC, first fork to last exit */
};

/*
 * Runs a storm: forks config->workers processes that each start children
 * one after another until the count is used up or the duration has passed,
 * then waits for all of them. The children's stdout and stderr go to
 * /dev/null. Returns 0, or -errno when a worker could not be started (the
 * workers already started are stopped and waited for).
 */
int ewb_storm_run(const struct ewb_storm_config *config, struct ewb_storm_result *result);

/*
 * Starts path with argv through vfork and execve, and stores in
 * *exec_boot_ns the CLOCK_BOOTTIME reading taken in the child just before
 * execve. stdout and stderr of the child go to /dev/null. Returns the
 * child's pid, or -errno; the caller reaps the child.
 */
pid_t ewb_spawn_timed(const char *path, char *const *argv, char *const *envp,
		      uint64_t *exec_boot_ns);

/* CLOCK_BOOTTIME in nanoseconds. */
uint64_t ewb_boot_time_ns(void);

struct ewb_control;

/*
 * Loads the control program and attaches it to sched_process_exec. Returns
 * NULL with errno set on failure, after printing libbpf's message on
 * stderr.
 */
struct ewb_control *ewb_control_start(void);
/* The id of the control program, for ewb_prog_stats. */
uint32_t ewb_control_prog_id(const struct ewb_control *control);
/* Execs the control program has counted so far, over all CPUs. */
uint64_t ewb_control_count(const struct ewb_control *control);
/* Detaches and unloads the control program. */
void ewb_control_stop(struct ewb_control *control);

/*
 * Turns on the kernel's BPF run-time statistics while the returned
 * descriptor stays open (BPF_ENABLE_STATS). Returns the descriptor or
 * -errno.
 */
int ewb_enable_run_time_stats(void);

/* Run time and run count of one BPF program, and its name. */
struct ewb_prog_stats {
	uint64_t run_time_ns;
	uint64_t run_count;
	uint64_t recursion_misses;
	char name[16];
};

/* Reads the statistics of the program with this id. Returns 0 or -errno. */
int ewb_prog_stats(uint32_t id, struct ewb_prog_stats *stats);

/* Stores in *next the id of the first loaded program after start. Returns
 * 0, or -ENOENT after the last one. */
int ewb_next_prog_id(uint32_t start, uint32_t *next);

/*
 * Counts the lines of a file that contain needle and, unless it is NULL,
 * also. Returns the count, or -errno when the file cannot be read.
 */
int64_t ewb_count_lines_containing(const char *path, const char *needle, const char *also);

#endif

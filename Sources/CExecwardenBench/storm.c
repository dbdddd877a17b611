/*
 * The exec storm generator and the timed marker exec. Workers are forked
 * processes, and between fork and _exit they call only async-signal-safe
 * functions, because the Swift process that forks them has other threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "execwarden_bench.h"

/* A worker gives up after this many child starts fail in a row, so a
 * missing target ends the storm instead of spinning. */
#define MAX_CONSECUTIVE_START_FAILURES 100

struct worker_counts {
	uint64_t execs;
	uint64_t failures;
};

/* Shared between the parent and its workers through a MAP_SHARED mapping. */
struct storm_shared {
	atomic_llong remaining;
	atomic_int stop;
	struct worker_counts workers[];
};

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec now;

	clock_gettime(clock, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

uint64_t ewb_boot_time_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

static pid_t start_child(const struct ewb_storm_config *config, int exec_fd)
{
	pid_t pid;
	int error;

	switch (config->method) {
	case EWB_STORM_FORK_EXEC:
		pid = fork();
		if (pid == 0) {
			execve(config->path, config->argv, config->envp);
			_exit(127);
		}
		return pid;
	case EWB_STORM_VFORK_EXEC:
		pid = vfork();
		if (pid == 0) {
			execve(config->path, config->argv, config->envp);
			_exit(127);
		}
		return pid;
	case EWB_STORM_POSIX_SPAWN:
		error = posix_spawn(&pid, config->path, NULL, NULL, config->argv, config->envp);
		return error ? -1 : pid;
	case EWB_STORM_EXECVEAT:
		pid = fork();
		if (pid == 0) {
			syscall(SYS_execveat, exec_fd, "", config->argv, config->envp, AT_EMPTY_PATH);
			_exit(127);
		}
		return pid;
	default:
		return -1;
	}
}

static void redirect_output_to_null(void)
{
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null_fd < 0)
		return;
	dup2(null_fd, STDOUT_FILENO);
	dup2(null_fd, STDERR_FILENO);
	close(null_fd);
}

static void worker_main(const struct ewb_storm_config *config, struct storm_shared *shared,
			int index)
{
	struct worker_counts counts = { 0, 0 };
	int consecutive_failures = 0;
	int exec_fd = -1;

	redirect_output_to_null();
	if (config->method == EWB_STORM_EXECVEAT) {
		exec_fd = open(config->path, O_PATH | O_CLOEXEC);
		if (exec_fd < 0) {
			shared->workers[index].failures = 1;
			_exit(1);
		}
	}
	while (!atomic_load(&shared->stop)) {
		int status = 0;
		pid_t pid;

		if (config->count && atomic_fetch_sub(&shared->remaining, 1) <= 0)
			break;
		pid = start_child(config, exec_fd);
		if (pid < 0) {
			counts.failures++;
			if (++consecutive_failures >= MAX_CONSECUTIVE_START_FAILURES)
				break;
			continue;
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			counts.execs++;
			consecutive_failures = 0;
		} else {
			counts.failures++;
			if (++consecutive_failures >= MAX_CONSECUTIVE_START_FAILURES)
				break;
		}
	}
	shared->workers[index] = counts;
	_exit(0);
}

static void sleep_ns(uint64_t duration_ns)
{
	struct timespec left = {
		.tv_sec = (time_t)(duration_ns / 1000000000ull),
		.tv_nsec = (long)(duration_ns % 1000000000ull),
	};

	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

static void wait_for_workers(const pid_t *pids, int count)
{
	for (int i = 0; i < count; i++) {
		int status;

		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
	}
}

int ewb_storm_run(const struct ewb_storm_config *config, struct ewb_storm_result *result)
{
	size_t size;
	struct storm_shared *shared;
	pid_t pids[1024];
	uint64_t start_ns;
	int started = 0;
	int error = 0;

	if (config->workers < 1 || config->workers > 1024 || !config->path || !config->argv)
		return -EINVAL;
	if (!config->count && !config->duration_ns)
		return -EINVAL;
	size = sizeof(*shared) + (size_t)config->workers * sizeof(struct worker_counts);
	shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -errno;
	memset(shared, 0, size);
	atomic_store(&shared->remaining, (long long)config->count);

	start_ns = clock_ns(CLOCK_MONOTONIC);
	for (; started < config->workers; started++) {
		pid_t pid = fork();

		if (pid == 0)
			worker_main(config, shared, started);
		if (pid < 0) {
			error = -errno;
			atomic_store(&shared->stop, 1);
			break;
		}
		pids[started] = pid;
	}
	if (!error && !config->count) {
		sleep_ns(config->duration_ns);
		atomic_store(&shared->stop, 1);
	}
	wait_for_workers(pids, started);

	memset(result, 0, sizeof(*result));
	result->elapsed_ns = clock_ns(CLOCK_MONOTONIC) - start_ns;
	for (int i = 0; i < started; i++) {
		result->execs += shared->workers[i].execs;
		result->failures += shared->workers[i].failures;
	}
	munmap(shared, size);
	return error;
}

pid_t ewb_spawn_timed(const char *path, char *const *argv, char *const *envp,
		      uint64_t *exec_boot_ns)
{
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid;

	if (null_fd < 0)
		return -errno;
	/* The vfork child shares this memory until execve, so its clock
	 * reading is in *exec_boot_ns when vfork returns here. */
	pid = vfork();
	if (pid == 0) {
		dup2(null_fd, STDOUT_FILENO);
		dup2(null_fd, STDERR_FILENO);
		*exec_boot_ns = clock_ns(CLOCK_BOOTTIME);
		execve(path, argv, envp);
		_exit(127);
	}
	if (pid < 0)
		pid = -errno;
	close(null_fd);
	return pid;
}

/* The control program's loader and BPF run-time statistics. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "execwarden_bench.h"

struct ewb_control {
	struct bpf_object *object;
	struct bpf_link *link;
	int count_map_fd;
	uint32_t prog_id;
};

static int prog_id_of_fd(int fd, uint32_t *id)
{
	struct bpf_prog_info info;
	__u32 length = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &length))
		return -errno;
	*id = info.id;
	return 0;
}

struct ewb_control *ewb_control_start(void)
{
	struct ewb_control *control = calloc(1, sizeof(*control));
	struct bpf_program *program;
	int error;

	if (!control)
		return NULL;
	control->object = bpf_object__open_mem(ewb_control_object, ewb_control_object_size, NULL);
	if (!control->object) {
		error = errno;
		goto fail;
	}
	error = -bpf_object__load(control->object);
	if (error)
		goto fail;
	program = bpf_object__find_program_by_name(control->object, "ewb_control_exec");
	control->link = program ? bpf_program__attach(program) : NULL;
	if (!control->link) {
		error = program ? errno : ENOENT;
		goto fail;
	}
	control->count_map_fd = bpf_object__find_map_fd_by_name(control->object, "exec_count");
	error = -prog_id_of_fd(bpf_program__fd(program), &control->prog_id);
	if (control->count_map_fd < 0 || error) {
		error = error ? error : ENOENT;
		goto fail;
	}
	return control;
fail:
	ewb_control_stop(control);
	errno = error;
	return NULL;
}

uint32_t ewb_control_prog_id(const struct ewb_control *control)
{
	return control->prog_id;
}

uint64_t ewb_control_count(const struct ewb_control *control)
{
	int cpus = libbpf_num_possible_cpus();
	uint64_t values[cpus > 0 ? cpus : 1];
	uint32_t key = 0;
	uint64_t total = 0;

	if (cpus <= 0 || bpf_map_lookup_elem(control->count_map_fd, &key, values))
		return 0;
	for (int i = 0; i < cpus; i++)
		total += values[i];
	return total;
}

void ewb_control_stop(struct ewb_control *control)
{
	if (!control)
		return;
	bpf_link__destroy(control->link);
	bpf_object__close(control->object);
	free(control);
}

int ewb_enable_run_time_stats(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	return fd < 0 ? -errno : fd;
}

int ewb_prog_stats(uint32_t id, struct ewb_prog_stats *stats)
{
	struct bpf_prog_info info;
	__u32 length = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	int error = 0;

	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &length))
		error = -errno;
	close(fd);
	if (error)
		return error;
	stats->run_time_ns = info.run_time_ns;
	stats->run_count = info.run_cnt;
	stats->recursion_misses = info.recursion_misses;
	memcpy(stats->name, info.name, sizeof(stats->name));
	stats->name[sizeof(stats->name) - 1] = '\0';
	return 0;
}

int ewb_next_prog_id(uint32_t start, uint32_t *next)
{
	return bpf_prog_get_next_id(start, next) ? -errno : 0;
}

int64_t ewb_count_lines_containing(const char *path, const char *needle, const char *also)
{
	FILE *file = fopen(path, "re");
	size_t needle_length = strlen(needle);
	char *line = NULL;
	size_t capacity = 0;
	ssize_t length;
	int64_t count = 0;

	if (!file)
		return -errno;
	while ((length = getline(&line, &capacity, file)) >= 0) {
		if (!memmem(line, (size_t)length, needle, needle_length))
			continue;
		if (!also || memmem(line, (size_t)length, also, strlen(also)))
			count++;
	}
	free(line);
	fclose(file);
	return count;
}

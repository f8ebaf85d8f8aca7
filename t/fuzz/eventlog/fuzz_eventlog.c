// SPDX-License-Identifier: MIT
/* libFuzzer target for the event log (user/collect/eventlog.c): the input is both one line for
 * pp_eventlog_parse_line and a whole events.csv for the reader. Every event that parses must
 * write back as a line that parses to the same event (the log is read on another host). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "collect/eventlog.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void round_trip(const struct pp_event *ev)
{
	char line[512];
	struct pp_event back;
	FILE *f = fmemopen(line, sizeof(line), "w");

	CHECK(f);
	CHECK(pp_eventlog_write(f, ev) == 0);
	CHECK(fclose(f) == 0);
	line[sizeof(line) - 1] = '\0';
	CHECK(pp_eventlog_parse_line(line, &back) == 0);
	CHECK(memcmp(&back, ev, sizeof(back)) == 0);
	CHECK(strcmp(pp_point_name(ev->point), "?") != 0);
	CHECK(pp_point_from_name(pp_point_name(ev->point)) == ev->point);
}

static void parse_one_line(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1); /* exact size: ASan sees any overread */
	struct pp_event ev;

	memcpy(line, data, size);
	line[size] = '\0';
	if (pp_eventlog_parse_line(line, &ev) == 0)
		round_trip(&ev);
	free(line);
}

/* The reader takes a path: the input goes into an in-memory file reached through /proc. */
static void read_whole_log(const uint8_t *data, size_t size)
{
	struct pp_eventlog_reader *r;
	struct pp_event ev;
	char path[64];
	int fd = memfd_create("fuzz_eventlog", MFD_CLOEXEC), ret;
	uint64_t events = 0;

	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK(pp_eventlog_open(&r, path) == 0);
	while ((ret = pp_eventlog_next(r, &ev)) == 1) {
		round_trip(&ev);
		events++;
	}
	CHECK(ret == 0);
	/* every row is an event, a header, a blank line or a counted bad row */
	CHECK(events + pp_eventlog_bad_rows(r) <= size);
	pp_eventlog_close(r);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_one_line(data, size);
	read_whole_log(data, size);
	return 0;
}

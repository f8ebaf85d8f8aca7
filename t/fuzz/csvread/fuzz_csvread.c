// SPDX-License-Identifier: MIT
/* libFuzzer target for the results.csv reader (user/plot/csvread.c) and what pingpong-plot builds on
 * it (user/plot/samples.c, the percentile table of user/plot/quantiles.c): any file must load or be
 * refused with an error, and every number pp_parse_double accepts must be exactly what strtod
 * reads from the same text (its fast path claims correct rounding). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "plot/csvread.h"
#include "plot/quantiles.h"
#include "plot/samples.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void check_number(const char *s, size_t len)
{
	char *copy = malloc(len + 1), *end;
	double v = NAN, ref;
	int err = pp_parse_double(s, len, &v);

	memcpy(copy, s, len);
	copy[len] = '\0';
	ref = strtod(copy, &end);
	if (err == 0) {
		CHECK(end == copy + len && isfinite(v));
		CHECK(v == ref && !(v == 0 && signbit(v))); /* -0 reads as +0 */
	} else {
		CHECK(err == -ENODATA || err == -EINVAL || err == -ERANGE);
		CHECK(err != -ENODATA || len == 0);
	}
	free(copy);
}

/* Returns whether the header names a latency component (what pingpong-plot would load). */
static bool walk_rows(const char *path)
{
	struct pp_csv *csv;
	int ret = pp_csv_open(&csv, path);
	bool has_component = false;

	if (ret) {
		CHECK(ret == -ENODATA || ret == -EBADMSG || ret == -E2BIG);
		return false;
	}
	CHECK(pp_csv_ncols(csv) >= 1);
	for (size_t c = 0; c < pp_csv_ncols(csv); c++) {
		CHECK(pp_csv_name(csv, c)[0] != '\0');
		CHECK(pp_csv_find(csv, pp_csv_name(csv, c)) == (int)c); /* names are unique */
		if (pp_component_by_name(pp_csv_name(csv, c)) >= 0)
			has_component = true;
	}
	/* a bad row is reported and reading may go on past it, as a lenient caller would */
	while ((ret = pp_csv_next(csv)) == 1 || ret == -EBADMSG) {
		CHECK(pp_csv_lineno(csv) >= 2);
		if (ret != 1)
			continue;
		for (size_t c = 0; c < pp_csv_ncols(csv); c++) {
			size_t len;
			const char *cell = pp_csv_cell(csv, c, &len);
			double v;

			CHECK(memchr(cell, ',', len) == NULL && memchr(cell, '\n', len) == NULL);
			check_number(cell, len);
			(void)pp_csv_double(csv, c, &v);
		}
	}
	CHECK(ret == 0 || ret == -E2BIG);
	pp_csv_close(csv);
	return has_component;
}

/* pingpong-plot's path: every component, sorted, then the percentile table. */
static void load_samples(const char *path)
{
	static const double pct[] = { 0, 50, 90, 99, 99.9, 100 };
	enum pp_component comps[PP_NCOMPONENTS];
	struct pp_samples s;
	struct pp_samples_error err;
	static FILE *devnull;

	if (!devnull)
		CHECK(devnull = fopen("/dev/null", "w"));
	for (int c = 0; c < PP_NCOMPONENTS; c++)
		comps[c] = (enum pp_component)c;
	if (pp_samples_load(&s, path, comps, PP_NCOMPONENTS, false, &err) < 0) {
		CHECK(memchr(err.column, '\0', sizeof(err.column)) && memchr(err.cell, '\0', sizeof(err.cell)));
		return;
	}
	pp_samples_sort(&s);
	for (size_t i = 0; i < s.ncols; i++) {
		const struct pp_sample_col *col = &s.col[i];

		CHECK(col->n <= s.rows);
		for (size_t k = 1; k < col->n; k++)
			CHECK(col->v[k - 1] <= col->v[k]);
		if (col->n)
			pp_table_row(devnull, pp_component_name[col->comp], col->v, col->n, pct,
				     sizeof(pct) / sizeof(pct[0]));
	}
	pp_samples_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfd_create("fuzz_csvread", MFD_CLOEXEC);

	check_number((const char *)data, size);
	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* load again only when there is something to load */
	if (walk_rows(path))
		load_samples(path);
	close(fd);
	return 0;
}

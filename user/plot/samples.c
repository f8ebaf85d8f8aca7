// SPDX-License-Identifier: MIT
/* Loads latency components from results.csv column by column name, growing arrays as rows come,
 * and sorts them for percentiles. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/csvread.h"
#include "plot/quantiles.h"
#include "plot/samples.h"

int pp_component_by_name(const char *name)
{
	size_t len = strlen(name);

	if (len > 3 && strcmp(name + len - 3, "_us") == 0)
		len -= 3;
	for (int c = 0; c < PP_NCOMPONENTS; c++)
		if (strlen(pp_component_name[c]) == len && strncmp(pp_component_name[c], name, len) == 0)
			return c;
	return -ENOENT;
}

static void note_cell(struct pp_samples_error *err, const char *cell, size_t len)
{
	if (len >= sizeof(err->cell))
		len = sizeof(err->cell) - 1;
	memcpy(err->cell, cell, len);
	err->cell[len] = '\0';
}

static int grow(struct pp_samples *s, size_t *cap)
{
	size_t new_cap = *cap ? *cap * 2 : 4096;

	for (size_t i = 0; i < s->ncols; i++) {
		double *v;

		if (!s->col[i].in_header)
			continue;
		v = realloc(s->col[i].v, new_cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->col[i].v = v;
	}
	*cap = new_cap;
	return 0;
}

static int read_rows(struct pp_samples *s, struct pp_csv *csv, const int *csv_col,
		     struct pp_samples_error *err)
{
	size_t cap = 0;
	int ret;

	while ((ret = pp_csv_next(csv)) == 1) {
		if (s->rows == cap && (ret = grow(s, &cap)))
			return ret;
		for (size_t i = 0; i < s->ncols; i++) {
			struct pp_sample_col *col = &s->col[i];
			double v;

			if (!col->in_header)
				continue;
			ret = pp_csv_double(csv, (size_t)csv_col[i], &v);
			if (ret == -ENODATA) {
				v = NAN;
			} else if (ret) {
				size_t len;
				const char *cell = pp_csv_cell(csv, (size_t)csv_col[i], &len);

				err->line = pp_csv_lineno(csv);
				snprintf(err->column, sizeof(err->column), "%s", pp_csv_name(csv, (size_t)csv_col[i]));
				note_cell(err, cell, len);
				return ret;
			} else {
				col->n++;
			}
			col->v[s->rows] = v;
		}
		s->rows++;
	}
	if (ret < 0)
		err->line = pp_csv_lineno(csv);
	return ret;
}

int pp_samples_load(struct pp_samples *s, const char *path, const enum pp_component *comps,
		    size_t ncomps, bool required, struct pp_samples_error *err)
{
	int csv_col[PP_NCOMPONENTS];
	struct pp_csv *csv;
	int ret;

	memset(s, 0, sizeof(*s));
	memset(err, 0, sizeof(*err));
	if (ncomps > PP_NCOMPONENTS)
		return -EINVAL;
	ret = pp_csv_open(&csv, path);
	if (ret) {
		if (ret != -ENOENT && ret != -EACCES)
			err->line = 1;
		return ret;
	}
	s->ncols = ncomps;
	for (size_t i = 0; i < ncomps; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s_us", pp_component_name[comps[i]]);
		s->col[i].comp = comps[i];
		csv_col[i] = pp_csv_find(csv, name);
		s->col[i].in_header = csv_col[i] >= 0;
		if (!s->col[i].in_header && required) {
			snprintf(err->column, sizeof(err->column), "%s", name);
			pp_csv_close(csv);
			return -ENOENT;
		}
	}
	ret = read_rows(s, csv, csv_col, err);
	pp_csv_close(csv);
	if (ret < 0)
		pp_samples_free(s);
	return ret < 0 ? ret : 0;
}

void pp_samples_sort(struct pp_samples *s)
{
	for (size_t i = 0; i < s->ncols; i++) {
		struct pp_sample_col *col = &s->col[i];
		size_t k = 0;

		if (!col->v)
			continue;
		for (size_t r = 0; r < s->rows; r++)
			if (!isnan(col->v[r]))
				col->v[k++] = col->v[r];
		pp_sort_doubles_radix(col->v, k);
	}
}

void pp_samples_free(struct pp_samples *s)
{
	for (size_t i = 0; i < s->ncols; i++) {
		free(s->col[i].v);
		s->col[i].v = NULL;
	}
}

// SPDX-License-Identifier: MIT
/* Writes the quantile tables and parameters the gnuplot scripts draw, so gnuplot handles about
 * a thousand points per curve however many rows the CSV has. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot/plotfiles.h"
#include "plot/quantiles.h"
#include "common/stats.h"

static const char *const component_color[PP_NCOMPONENTS] = {
	[PP_RTT] = "#000000",          [PP_CLIENT_STACK] = "#1f77b4", [PP_NETWORK] = "#ff7f0e",
	[PP_SERVER_STACK] = "#2ca02c", [PP_SERVER_APP] = "#d62728",   [PP_CLIENT_DEV] = "#9467bd",
	[PP_WIRE] = "#8c564b",         [PP_SERVER_DEV] = "#e377c2",   [PP_RTT_APP] = "#7f7f7f",
};

const char *pp_component_color(enum pp_component c)
{
	return component_color[c];
}

/* A gnuplot single-quoted string: '' stands for ', and a newline would end the command. */
static void put_gp_string(FILE *f, const char *var, const char *s)
{
	fprintf(f, "%s = '", var);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("''", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
	fputs("'\n", f);
}

/* Key entries are enhanced text, which gnuplot's SVG also uses as each curve's <title>: an
 * underscore would start a subscript, so it is escaped. */
static void put_key_word(FILE *f, const char *name, bool first)
{
	if (!first)
		fputc(' ', f);
	for (; *name; name++) {
		if (*name == '_')
			fputc('\\', f);
		fputc(*name, f);
	}
}

static FILE *open_in(const char *dir, const char *name, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return fopen(path, "w");
}

static int close_checked(FILE *f)
{
	int bad = ferror(f);

	if (fclose(f) != 0)
		return -errno;
	return bad ? -EIO : 0;
}

static void put_common_params(FILE *f, const char *dir, const struct pp_plot_opts *o)
{
	put_gp_string(f, "out_term", o->term);
	put_gp_string(f, "out_file", o->output);
	put_gp_string(f, "plot_title", o->title);
	put_gp_string(f, "data_dir", dir);
}

static bool drawn(const struct pp_sample_col *col, bool logx)
{
	return col->n > 0 && (!logx || col->v[col->n - 1] > 0);
}

/* One block per drawn component: "value_us nines pct", the grid of quantile.h. */
static void put_cdf_blocks(FILE *data, FILE *marks, const struct pp_samples *s, const struct pp_plot_opts *o)
{
	static double grid[PP_GRID_MAX];

	for (size_t i = 0; i < s->ncols; i++) {
		const struct pp_sample_col *col = &s->col[i];
		size_t ngrid;

		if (!drawn(col, o->logx))
			continue;
		ngrid = pp_quantile_grid(grid, PP_GRID_MAX, col->n);
		fprintf(data, "# %s\n", pp_component_name[col->comp]);
		for (size_t k = 0; k < ngrid; k++) {
			double x = pp_percentile(col->v, col->n, grid[k]);

			if (!o->logx || x > 0)
				fprintf(data, "%.9g %.6f %.6g\n", x, pp_nines(grid[k], col->n), grid[k]);
		}
		fputs("\n\n", data);
		fprintf(marks, "# %s\n", pp_component_name[col->comp]);
		for (size_t k = 0; k < o->npct; k++) {
			double x = pp_percentile(col->v, col->n, o->pct[k]);

			if (!o->logx || x > 0)
				fprintf(marks, "%.9g %.6f %.6g\n", x, pp_nines(o->pct[k], col->n), o->pct[k]);
		}
		fputs("\n\n", marks);
	}
}

/* Linear x: from 0 to a little past the highest marked percentile (at least p99), so a few
 * far outliers do not squeeze the curves into the left edge; the note says where it was cut. */
static void put_x_range(FILE *f, const struct pp_samples *s, const struct pp_plot_opts *o)
{
	double p_hi = 99, x_hi = -INFINITY, x_max = -INFINITY, x_min = INFINITY, min_pos = INFINITY;
	char note[160] = "";

	for (size_t k = 0; k < o->npct; k++)
		if (o->pct[k] > p_hi)
			p_hi = o->pct[k];
	for (size_t i = 0; i < s->ncols; i++) {
		const struct pp_sample_col *col = &s->col[i];

		if (!drawn(col, o->logx))
			continue;
		x_hi = fmax(x_hi, pp_percentile(col->v, col->n, p_hi));
		x_max = fmax(x_max, col->v[col->n - 1]);
		x_min = fmin(x_min, col->v[0]);
		for (size_t r = 0; r < col->n; r++)
			if (col->v[r] > 0) {
				min_pos = fmin(min_pos, col->v[r]);
				break;
			}
	}
	if (o->logx) {
		fprintf(f, "xmin = %.9g\nxmax = %.9g\n", min_pos / 1.25, x_max * 1.25);
	} else {
		double lo = fmin(0, x_min), hi = x_max * 1.03;

		if (x_max > x_hi * 1.2) {
			hi = x_hi * 1.15;
			snprintf(note, sizeof(note), "x axis cut at %.0f µs; the slowest reach %.0f µs (--logx shows all)",
				 hi, x_max);
		}
		if (hi <= lo)
			hi = lo + 1;
		fprintf(f, "xmin = %.9g\nxmax = %.9g\n", lo, hi);
	}
	put_gp_string(f, "x_note", note);
}

/* y ticks: every whole nine up to the top, p50, and each marked percentile. */
static void put_y_axis(FILE *f, const struct pp_samples *s, const struct pp_plot_opts *o)
{
	size_t n_max = 1;
	double top;

	for (size_t i = 0; i < s->ncols; i++)
		if (s->col[i].n > n_max)
			n_max = s->col[i].n;
	top = pp_nines_top(n_max);
	fprintf(f, "ytop = %.6f\n", top);
	fprintf(f, "ytics_spec = '(\"0%%%%\" 0, \"50%%%%\" %.6f", pp_nines(50, n_max));
	for (int nines = 1; nines <= (int)floor(top + 1e-9); nines++)
		fprintf(f, ", \"%.10g%%%%\" %d", 100 - 100 * pow(10, -nines), nines);
	for (size_t k = 0; k < o->npct; k++) {
		double y = pp_nines(o->pct[k], n_max);

		/* p50, p90, p99... have their tick already */
		if (y < top && fabs(y - round(y)) > 1e-6 && o->pct[k] != 50)
			fprintf(f, ", \"%.10g%%%%\" %.6f", o->pct[k], y);
	}
	fputs(")'\n", f);
	fputs("pct_y = '", f);
	for (size_t k = 0; k < o->npct; k++)
		fprintf(f, "%s%.6f", k ? " " : "", pp_nines(o->pct[k], n_max));
	fputs("'\n", f);
}

static void put_cdf_params(FILE *f, const char *dir, const struct pp_samples *s, const struct pp_plot_opts *o)
{
	int ncomp = 0;

	put_common_params(f, dir, o);
	fprintf(f, "logx = %d\n", o->logx);
	fputs("names = '", f);
	for (size_t i = 0; i < s->ncols; i++)
		if (drawn(&s->col[i], o->logx))
			fprintf(f, "%s%s", ncomp++ ? " " : "", pp_component_name[s->col[i].comp]);
	fputs("'\nkeys = '", f);
	for (size_t i = 0, k = 0; i < s->ncols; i++)
		if (drawn(&s->col[i], o->logx))
			put_key_word(f, pp_component_name[s->col[i].comp], k++ == 0);
	fputs("'\ncolors = '", f);
	for (size_t i = 0, k = 0; i < s->ncols; i++)
		if (drawn(&s->col[i], o->logx))
			fprintf(f, "%s%s", k++ ? " " : "", pp_component_color(s->col[i].comp));
	fprintf(f, "'\nncomp = %d\n", ncomp);
	put_x_range(f, s, o);
	put_y_axis(f, s, o);
}

int pp_write_cdf_files(const char *dir, const struct pp_samples *s, const struct pp_plot_opts *o)
{
	char path[4096];
	FILE *params, *data = NULL, *marks = NULL;
	int ret, ret2, ret3;

	params = open_in(dir, "params.gp", path, sizeof(path));
	if (!params)
		return -errno;
	data = open_in(dir, "cdf.dat", path, sizeof(path));
	marks = data ? open_in(dir, "marks.dat", path, sizeof(path)) : NULL;
	if (!data || !marks) {
		ret = -errno;
		fclose(params);
		if (data)
			fclose(data);
		return ret;
	}
	put_cdf_params(params, dir, s, o);
	put_cdf_blocks(data, marks, s, o);
	ret = close_checked(params);
	ret2 = close_checked(data);
	ret3 = close_checked(marks);
	return ret ? ret : ret2 ? ret2 : ret3;
}

int pp_write_stack_files(const char *dir, const struct pp_stack_bar *bar, size_t nbar,
			 const struct pp_plot_opts *o)
{
	static const enum pp_component part[PP_STACK_PARTS] = {
		PP_CLIENT_STACK, PP_NETWORK, PP_SERVER_STACK, PP_SERVER_APP,
	};
	char path[4096];
	FILE *params, *data;
	int ret, ret2;

	params = open_in(dir, "params.gp", path, sizeof(path));
	if (!params)
		return -errno;
	data = open_in(dir, "stack.dat", path, sizeof(path));
	if (!data) {
		ret = -errno;
		fclose(params);
		return ret;
	}
	put_common_params(params, dir, o);
	fprintf(params, "nbar = %zu\n", nbar);
	fputs("part_names = '", params);
	for (int p = 0; p < PP_STACK_PARTS; p++)
		fprintf(params, "%s%s", p ? " " : "", pp_component_name[part[p]]);
	fputs("'\npart_keys = '", params);
	for (int p = 0; p < PP_STACK_PARTS; p++)
		put_key_word(params, pp_component_name[part[p]], p == 0);
	fputs("'\npart_colors = '", params);
	for (int p = 0; p < PP_STACK_PARTS; p++)
		fprintf(params, "%s%s", p ? " " : "", pp_component_color(part[p]));
	fputs("'\n", params);

	fputs("# label client_stack network server_stack server_app rtt_percentile rtt_mean_of_rows rows\n", data);
	for (size_t i = 0; i < nbar; i++) {
		fprintf(data, "p%.10g", bar[i].pct);
		for (int p = 0; p < PP_STACK_PARTS; p++)
			fprintf(data, " %.6f", bar[i].part_us[p]);
		fprintf(data, " %.6f %.6f %zu\n", bar[i].rtt_us, bar[i].rtt_mean_us, bar[i].rows);
	}
	ret = close_checked(params);
	ret2 = close_checked(data);
	return ret ? ret : ret2;
}

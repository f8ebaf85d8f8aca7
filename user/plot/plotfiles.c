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

/* A host's --sched parts are shades of its stack's colour, so they read as one family: the
 * processing dark, the wake-up lighter and its idle exit lightest (a part of the wake-up, drawn
 * next to it), the return to the program greyed. */
#define CLIENT_PROC   "#0d3d66"
#define CLIENT_WAIT   "#5fb0e6"
#define CLIENT_IDLE   "#acd6f2"
#define CLIENT_RETURN "#7d93a8"
#define SERVER_PROC   "#145214"
#define SERVER_WAIT   "#72c66a"
#define SERVER_IDLE   "#bde5b6"
#define SERVER_RETURN "#8aa286"

static const char *const component_color[PP_NCOMPONENTS] = {
	[PP_RTT] = "#000000",          [PP_CLIENT_STACK] = "#1f77b4", [PP_NETWORK] = "#ff7f0e",
	[PP_SERVER_STACK] = "#2ca02c", [PP_SERVER_APP] = "#d62728",   [PP_CLIENT_DEV] = "#9467bd",
	[PP_WIRE] = "#8c564b",         [PP_SERVER_DEV] = "#e377c2",   [PP_RTT_APP] = "#7f7f7f",
	[PP_CLIENT_PROC] = CLIENT_PROC, [PP_CLIENT_WAKEUP] = CLIENT_WAIT,
	[PP_CLIENT_IDLE] = CLIENT_IDLE, [PP_CLIENT_RETURN] = CLIENT_RETURN,
	[PP_SERVER_PROC] = SERVER_PROC, [PP_SERVER_WAKEUP] = SERVER_WAIT,
	[PP_SERVER_IDLE] = SERVER_IDLE, [PP_SERVER_RETURN] = SERVER_RETURN,
};

const char *pp_component_color(enum pp_component c)
{
	return component_color[c];
}

const char *pp_stack_part_color(enum pp_stack_part p)
{
	/* A wait is the wake-up less its idle exit: the wake-up's colour. */
	return pp_component_color(pp_stack_part_info[p].comp);
}

/* Labels on a bar are white, but black on a light fill (relative luminance, sRGB roughly). */
static const char *label_color_on(const char *fill)
{
	unsigned r, g, b;

	if (sscanf(fill, "#%2x%2x%2x", &r, &g, &b) != 3)
		return "#ffffff";
	return 0.2126 * r + 0.7152 * g + 0.0722 * b > 150 ? "#202020" : "#ffffff";
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

/* Whose --sched part p is: 0 client, 1 server, -1 none (a whole stack, network, server app). */
static int sched_host(enum pp_stack_part p)
{
	if (p >= PP_PART_CLIENT_PROC && p <= PP_PART_CLIENT_RETURN)
		return 0;
	if (p >= PP_PART_SERVER_PROC && p <= PP_PART_SERVER_RETURN)
		return 1;
	return -1;
}

/* The key under the plots when a host is split, four rows: a column per split host, its parts
 * top-down as in the bar, then the other parts top-down (stack.gp adds the RTT marker last).
 * Parts are numbered from 1, in stacking order. */
static void put_key_order(FILE *f, const struct pp_stack_parts *sp)
{
	size_t k = 0;

	fputs("key_order = '", f);
	for (int host = 0; host < 2; host++)
		for (size_t p = sp->n; p-- > 0;)
			if (sched_host(sp->part[p]) == host)
				fprintf(f, "%s%zu", k++ ? " " : "", p + 1);
	for (size_t p = sp->n; p-- > 0;)
		if (sched_host(sp->part[p]) < 0)
			fprintf(f, "%s%zu", k++ ? " " : "", p + 1);
	fputs("'\n", f);
}

/* The plain legend words when a host is split, else the component names, as before --sched. */
static void put_stack_params(FILE *f, const struct pp_stack_parts *sp)
{
	bool plain = sp->split[0] || sp->split[1];

	fprintf(f, "nparts = %zu\n", sp->n);
	fputs("part_names = '", f);
	for (size_t p = 0; p < sp->n; p++)
		fprintf(f, "%s%s", p ? " " : "", pp_stack_part_info[sp->part[p]].name);
	/* word() takes a double-quoted group as one word: the keys have spaces. */
	fputs("'\npart_keys = '", f);
	for (size_t p = 0; p < sp->n; p++) {
		const struct pp_stack_part_info *info = &pp_stack_part_info[sp->part[p]];

		if (plain)
			fprintf(f, "%s\"%s\"", p ? " " : "", info->key);
		else
			put_key_word(f, info->name, p == 0);
	}
	fputs("'\npart_colors = '", f);
	for (size_t p = 0; p < sp->n; p++)
		fprintf(f, "%s%s", p ? " " : "", pp_stack_part_color(sp->part[p]));
	fputs("'\npart_label_colors = '", f);
	for (size_t p = 0; p < sp->n; p++)
		fprintf(f, "%s%s", p ? " " : "", label_color_on(pp_stack_part_color(sp->part[p])));
	fputs("'\n", f);
	put_key_order(f, sp);
}

int pp_write_stack_files(const char *dir, const struct pp_stack_parts *sp,
			 const struct pp_stack_bar *bar, size_t nbar, const struct pp_plot_opts *o)
{
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
	put_stack_params(params, sp);

	fputs("# label", data);
	for (size_t p = 0; p < sp->n; p++)
		fprintf(data, " %s", pp_stack_part_info[sp->part[p]].name);
	fputs(" rtt_percentile rtt_mean_of_rows rows\n", data);
	for (size_t i = 0; i < nbar; i++) {
		fprintf(data, "p%.10g", bar[i].pct);
		for (size_t p = 0; p < sp->n; p++)
			fprintf(data, " %.6f", bar[i].part_us[p]);
		fprintf(data, " %.6f %.6f %zu\n", bar[i].rtt_us, bar[i].rtt_mean_us, bar[i].rows);
	}
	ret = close_checked(params);
	ret2 = close_checked(data);
	return ret ? ret : ret2;
}

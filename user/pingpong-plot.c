// SPDX-License-Identifier: MIT
/* pingpong-plot: latency CDFs (or the per-percentile RTT split) of a results.csv, drawn by
 * gnuplot from a compact quantile table, and the percentile table plots/plot_cdf.py prints. */
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "plot/csvread.h"
#include "plot/gnuplot.h"
#include "common/atomic_file.h"
#include "plot/plotfiles.h"
#include "plot/quantiles.h"
#include "plot/samples.h"
#include "plot/stacksplit.h"
#include "common/stats.h"
#include "common/log.h"
#include "common/opts.h"

#define PROG "pingpong-plot"

/* Drawing order: the parts of the RTT, the RTT, then the parts of the network. */
static const enum pp_component default_components[] = {
	PP_CLIENT_STACK, PP_NETWORK, PP_SERVER_STACK, PP_SERVER_APP, PP_RTT,
	PP_CLIENT_DEV, PP_WIRE, PP_SERVER_DEV,
};
/* The stacked view: rtt and its four parts (required), then each host's --sched parts, which
 * split its stack when the rows have them. */
static const enum pp_component stack_components[] = {
	PP_RTT, PP_CLIENT_STACK, PP_NETWORK, PP_SERVER_STACK, PP_SERVER_APP,
	PP_CLIENT_PROC, PP_CLIENT_WAKEUP, PP_CLIENT_IDLE, PP_CLIENT_RETURN,
	PP_SERVER_PROC, PP_SERVER_WAKEUP, PP_SERVER_IDLE, PP_SERVER_RETURN,
};
#define STACK_REQUIRED 5 /* the first five of stack_components */

struct options {
	const char *input;
	const char *output;
	const char *term;
	const char *title;
	bool logx, stacked, quiet;
	double pct[PP_MAX_PERCENTILES];
	size_t npct;
	bool pct_given;
	enum pp_component comps[PP_NCOMPONENTS];
	size_t ncomps;
	bool comps_given;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int parse_components(const char *list, struct options *o)
{
	char buf[512], *save = NULL, *name;

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	o->ncomps = 0;
	for (name = strtok_r(buf, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
		int c = pp_component_by_name(name);

		if (c < 0 || o->ncomps == PP_NCOMPONENTS)
			return -EINVAL;
		for (size_t i = 0; i < o->ncomps; i++)
			if (o->comps[i] == (enum pp_component)c)
				return -EINVAL;
		o->comps[o->ncomps++] = (enum pp_component)c;
	}
	return o->ncomps ? 0 : -EINVAL;
}

static const char *term_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot && strcasecmp(dot, ".png") == 0)
		return "png";
	if (dot && strcasecmp(dot, ".svg") == 0)
		return "svg";
	return NULL;
}

static int take_percentiles(const struct pp_opts_spec *spec, const struct pp_opt *opt,
			    const char *arg, void *cfg, struct pp_err *err)
{
	struct options *o = cfg;
	int rc;

	if (!o->pct_given)
		o->npct = 0; /* the first --percentiles replaces the default list */
	o->pct_given = true;
	rc = pp_parse_percentiles(arg, o->pct, &o->npct);
	if (rc == -E2BIG)
		return pp_err_set(err, -EINVAL, "--%s takes at most 16 values (got %s)", opt->name, arg);
	return rc ? pp_opt_bad_value(spec, opt, opt->range, arg, err) : 0;
}

static int take_components(const struct pp_opts_spec *spec, const struct pp_opt *opt,
			   const char *arg, void *cfg, struct pp_err *err)
{
	struct options *o = cfg;

	o->comps_given = true;
	(void)spec;
	if (parse_components(arg, o))
		return pp_err_set(err, -EINVAL, "--%s must name components like rtt,network "
				  "(got '%s')", opt->name, arg);
	return 0;
}

typedef struct options cfg_t;

static const struct pp_opt options[] = {
	{ "input", 'i', PP_OPT_STRING, PP_OPT_AT(cfg_t, input), .metavar = "FILE",
	  .help = "results.csv from pingpong-client (required)" },
	{ "output", 'o', PP_OPT_STRING, PP_OPT_AT(cfg_t, output), .metavar = "FILE",
	  .help = ".png or .svg, written whole or not at all (required)" },
	{ "percentiles", 'p', PP_OPT_CUSTOM, PP_OPT_AT(cfg_t, pct), .metavar = "LIST",
	  .parse = take_percentiles, .range = "numbers 0..100",
	  .help = "percentiles to mark and print, comma or space separated",
	  .def = "50,90,99,99.9" },
	{ "logx", 'l', PP_OPT_FLAG, PP_OPT_AT(cfg_t, logx),
	  .help = "logarithmic latency axis",
	  .def = "linear, cut a little past the highest percentile, at least p99" },
	{ "components", 'c', PP_OPT_CUSTOM, PP_OPT_AT(cfg_t, comps), .metavar = "LIST",
	  .parse = take_components,
	  .help = "comma-separated from rtt client_stack network server_stack server_app "
		  "client_dev wire server_dev rtt_app, and with --sched client_proc client_wakeup "
		  "client_idle client_return server_proc server_wakeup server_idle server_return",
	  .def = "all but rtt_app and the --sched ones, those that have values" },
	{ "stacked", 's', PP_OPT_FLAG, PP_OPT_AT(cfg_t, stacked),
	  .help = "instead of CDFs, one bar per percentile: how the RTT splits into client_stack "
		  "network server_stack server_app (mean over the exchanges whose RTT is nearest "
		  "it); a host's stack in its --sched parts (processing, waiting for CPU, CPU "
		  "leaving idle, return to the program) when the rows have them" },
	{ "title", 't', PP_OPT_STRING, PP_OPT_AT(cfg_t, title), .metavar = "TEXT",
	  .help = "plot title", .def = "\"<input>: <N> exchanges\"" },
	{ "quiet", 'q', PP_OPT_FLAG, PP_OPT_AT(cfg_t, quiet), .help = "no table on stdout" },
	{ 0 },
};

/* Where parsing starts; --help shows these as the defaults. */
static const cfg_t defaults = { .pct = { 50, 90, 99, 99.9 }, .npct = 4 };

static const struct pp_opts_spec spec = {
	PP_OPTS_TABLE(options, defaults),
	.usage = "Usage: " PROG " --input results.csv --output FILE.png|FILE.svg [options]\n"
		 "Draws one latency CDF per component of a results.csv with gnuplot and prints\n"
		 "a percentile table (microseconds) on stdout; plots/plot_cdf.py prints the same.\n",
	.quote_got = true,
	.epilog = "Percentiles interpolate linearly between closest ranks (numpy's default); an empty\n"
		  "cell is \"not measured\" and left out. Scripts cdf.gp and stack.gp are taken from\n"
		  "$PINGPONG_PLOTS_DIR, else <bindir>/../plots, else <bindir>/../share/pingpong;\n"
		  "the gnuplot program from $GNUPLOT, else gnuplot on PATH.\n",
};

/* The checks after parsing: what needs two options, or none given. */
static int check_options(int argc, char **argv, int first, struct options *o, struct pp_err *err)
{
	/* "--percentiles 50 90 99", as plot_cdf.py takes it: the rest arrive as operands. */
	for (int i = first; i < argc; i++) {
		if (!o->pct_given)
			return pp_err_set(err, -EINVAL, "unexpected argument '%s'", argv[i]);
		if (pp_parse_percentiles(argv[i], o->pct, &o->npct))
			return pp_opt_bad_value(&spec, &options[2], options[2].range, argv[i], err);
	}
	if (!o->input)
		return pp_err_set(err, -EINVAL, "--input FILE is required");
	if (!o->output)
		return pp_err_set(err, -EINVAL, "--output FILE.png|FILE.svg is required");
	if (!(o->term = term_of(o->output)))
		return pp_err_set(err, -EINVAL, "--output must end in .png or .svg (got '%s')", o->output);
	if (o->npct == 0)
		return pp_err_set(err, -EINVAL, "--percentiles needs at least one value");
	if (o->stacked && (o->comps_given || o->logx))
		return pp_err_set(err, -EINVAL, "--stacked always shows rtt's parts on a linear "
				  "axis: drop --components and --logx");
	return 0;
}

/* 0 to go on, else the exit status (0 after --help). Every usage error points at --help. */
static int parse_options(int argc, char **argv, struct options *o, bool *done)
{
	struct pp_err err = { 0 };
	int rc, first;

	rc = pp_opts_parse(&spec, argc, argv, o, &first, &err);
	if (rc == PP_OPTS_HELP) {
		pp_opts_usage(&spec, stdout);
		*done = true;
		return 0;
	}
	if (rc == PP_OPTS_OK)
		rc = check_options(argc, argv, first, o, &err);
	if (rc < 0) {
		pp_log_error("%s (see --help)", pp_err_text(&err));
		return 2;
	}
	return 0;
}

static void print_load_error(int err, const char *path, const struct pp_samples_error *e)
{
	switch (err) {
	case -ENODATA:
		pp_log_error("%s is empty (no header line)", path);
		break;
	case -EBADMSG:
		if (e->line <= 1)
			pp_log_error("%s:%zu: header has an empty or repeated column name", path, e->line);
		else
			pp_log_error("%s:%zu: row has a different number of cells than the header",
				path, e->line);
		break;
	case -E2BIG:
		pp_log_error("%s:%zu: line longer than %u bytes", path, e->line, PP_CSV_MAX_LINE);
		break;
	case -EINVAL:
		pp_log_error("%s:%zu: %s: '%s' is not a decimal number", path, e->line, e->column, e->cell);
		break;
	case -ERANGE:
		pp_log_error("%s:%zu: %s: '%s' is not finite", path, e->line, e->column, e->cell);
		break;
	default:
		if (err == -ENOENT && e->column[0])
			pp_log_error("%s has no column %s", path, e->column);
		else
			pp_log_error("cannot read %s: %s", path, strerror(-err));
	}
}

/* Says which of the first ncheck components are absent or empty, and whether anything is left
 * to draw. */
static int check_samples(const struct pp_samples *s, size_t ncheck, const char *path)
{
	char empty[256] = "";
	size_t with_values = 0, in_header = 0;

	if (s->rows == 0) {
		pp_log_error("%s has a header but no rows", path);
		return -ENODATA;
	}
	for (size_t i = 0; i < ncheck; i++) {
		in_header += s->col[i].in_header;
		with_values += s->col[i].n > 0;
		if (s->col[i].in_header && s->col[i].n == 0 && strlen(empty) < sizeof(empty) - 32) {
			strcat(empty, empty[0] ? ", " : "");
			strcat(empty, pp_component_name[s->col[i].comp]);
		}
	}
	if (in_header == 0) {
		pp_log_error("%s has none of the latency columns (rtt_us, client_stack_us, ...)", path);
		return -ENODATA;
	}
	if (with_values == 0) {
		pp_log_error("%s has no latency values in any of its %zu rows", path, s->rows);
		return -ENODATA;
	}
	if (empty[0])
		pp_log_warn("not measured in any row, not drawn: %s", empty);
	return 0;
}

/* A log axis shows positive values only: says which components it leaves out. */
static int check_log_axis(const struct pp_samples *s)
{
	char left_out[256] = "";
	size_t drawn = 0;

	for (size_t i = 0; i < s->ncols; i++) {
		const struct pp_sample_col *col = &s->col[i];
		bool positive = false;

		for (size_t r = 0; col->n > 0 && r < s->rows && !positive; r++)
			positive = col->v[r] > 0; /* NAN compares false */
		drawn += positive;
		if (col->n > 0 && !positive && strlen(left_out) < sizeof(left_out) - 32) {
			strcat(left_out, left_out[0] ? ", " : "");
			strcat(left_out, pp_component_name[col->comp]);
		}
	}
	if (drawn == 0) {
		pp_log_error("no positive values to draw on a log axis (drop --logx)");
		return -ERANGE;
	}
	if (left_out[0])
		pp_log_warn("no positive values, not drawn on the log axis: %s", left_out);
	return 0;
}

static void print_table(const struct pp_samples *s, const struct options *o)
{
	pp_table_header(stdout, o->pct, o->npct);
	for (size_t i = 0; i < s->ncols; i++)
		if (s->col[i].n > 0)
			pp_table_row(stdout, pp_component_name[s->col[i].comp], s->col[i].v, s->col[i].n,
				     o->pct, o->npct);
}

/* --stacked needs rtt and its four parts; without them there is no bar to draw. */
static int check_stack_columns(const struct pp_samples *s, const char *path)
{
	for (size_t i = 0; i < STACK_REQUIRED; i++)
		if (!s->col[i].in_header) {
			pp_log_error("%s has no column %s_us", path, pp_component_name[s->col[i].comp]);
			return -ENOENT;
		}
	return 0;
}

/* A column per part, as wide as its name (at least 10). */
static void print_split(const struct pp_stack_parts *sp, const struct pp_stack_bar *bar, size_t nbar)
{
	printf("\nRTT split: mean parts of the exchanges with RTT nearest each percentile (us)\n");
	printf("%-9s %10s %5s %10s", "rtt", "value", "rows", "their_rtt");
	for (size_t p = 0; p < sp->n; p++)
		printf(" %10s", pp_stack_part_info[sp->part[p]].name);
	putchar('\n');
	for (size_t i = 0; i < nbar; i++) {
		char label[32];

		snprintf(label, sizeof(label), "p%.10g", bar[i].pct);
		printf("%-9s %10.3f %5zu %10.3f", label, bar[i].rtt_us, bar[i].rows, bar[i].rtt_mean_us);
		for (size_t p = 0; p < sp->n; p++) {
			int width = (int)strlen(pp_stack_part_info[sp->part[p]].name);

			printf(" %*.3f", width > 10 ? width : 10, bar[i].part_us[p]);
		}
		putchar('\n');
	}
}

/* Row-aligned values (before pp_samples_sort) of each loaded component, NULL when absent. */
static int stack_bars(const struct pp_samples *s, const struct options *o, struct pp_stack_parts *sp,
		      struct pp_stack_bar *bar)
{
	const double *col[PP_NCOMPONENTS] = { 0 };
	int err;

	for (size_t i = 0; i < s->ncols; i++)
		if (s->col[i].in_header)
			col[s->col[i].comp] = s->col[i].v;
	err = pp_stack_parts_choose(sp, col, s->rows);
	if (!err)
		err = pp_stack_split(col[PP_RTT], sp->v, sp->n, s->rows, o->pct, o->npct, bar);
	if (err == -ENODATA)
		pp_log_error("%s has no row with rtt and all %zu parts; nothing to stack", o->input, sp->n);
	else if (err)
		pp_log_error("%s", strerror(-err));
	return err;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Writes the plot's files into a private directory, has gnuplot draw into a temporary output
 * and renames it into place. */
static int render(const struct options *o, const struct pp_samples *s, const struct pp_stack_parts *sp,
		  const struct pp_stack_bar *bar, const char *script)
{
	const char *tmpdir = getenv("TMPDIR");
	char dir[4096], params[4200], title[512], in[4096];
	struct pp_atomic_file out;
	struct pp_plot_opts popts;
	int err;

	snprintf(dir, sizeof(dir), "%s/pingpong-plot.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir)) {
		pp_log_error("cannot make a temporary directory %s: %s", dir, strerror(errno));
		return 1;
	}
	err = pp_atomic_open(&out, o->output);
	if (err) {
		pp_log_error("cannot write %s: %s", o->output, strerror(-err));
		nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
		return 1;
	}
	snprintf(in, sizeof(in), "%s", o->input);
	snprintf(title, sizeof(title), "%s: %zu exchange%s", basename(in), s->rows, s->rows == 1 ? "" : "s");
	popts = (struct pp_plot_opts){
		.term = o->term, .output = out.tmp_path, .title = o->title ? o->title : title,
		.logx = o->logx, .pct = o->pct, .npct = o->npct,
	};
	err = o->stacked ? pp_write_stack_files(dir, sp, bar, o->npct, &popts) :
			   pp_write_cdf_files(dir, s, &popts);
	snprintf(params, sizeof(params), "%s/params.gp", dir);
	if (err)
		pp_log_error("cannot write plot data in %s: %s", dir, strerror(-err));
	else if ((err = pp_run_gnuplot(params, script, &stop_requested)) == -ENOENT)
		pp_log_error("gnuplot not found (Debian: apt install gnuplot-nox)");
	else if (err == -EINTR)
		pp_log_error("interrupted; %s not written", o->output);
	else if (err)
		pp_log_error("gnuplot failed on %s; %s not written", script, o->output);
	else if ((err = pp_atomic_commit_nonempty(&out)))
		pp_log_error("cannot write %s: %s", o->output,
			err == -ENODATA ? "gnuplot produced nothing" : strerror(-err));
	if (err)
		pp_atomic_abort(&out);
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return err ? 1 : 0;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: waitpid must return */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int main(int argc, char **argv)
{
	struct options o;
	struct pp_stack_bar bar[PP_MAX_PERCENTILES];
	struct pp_stack_parts sp = { 0 };
	struct pp_samples_error load_err;
	struct pp_samples s;
	char script[4096];
	bool done = false;
	int ret;

	pp_log_init(PROG);
	ret = parse_options(argc, argv, &o, &done);
	if (ret || done)
		return ret;
	if (o.stacked) {
		memcpy(o.comps, stack_components, sizeof(stack_components));
		o.ncomps = sizeof(stack_components) / sizeof(*stack_components);
	} else if (!o.comps_given) {
		memcpy(o.comps, default_components, sizeof(default_components));
		o.ncomps = sizeof(default_components) / sizeof(*default_components);
	}
	if (pp_find_plot_script(o.stacked ? "stack.gp" : "cdf.gp", script, sizeof(script))) {
		pp_log_error("cannot find plots/%s (set PINGPONG_PLOTS_DIR)", o.stacked ? "stack.gp" : "cdf.gp");
		return 1;
	}
	/* --stacked requires its first columns itself: the --sched ones are optional. */
	ret = pp_samples_load(&s, o.input, o.comps, o.ncomps, o.comps_given, &load_err);
	if (ret) {
		print_load_error(ret, o.input, &load_err);
		return 1;
	}
	if (o.stacked)
		ret = check_stack_columns(&s, o.input) || check_samples(&s, STACK_REQUIRED, o.input) ||
		      stack_bars(&s, &o, &sp, bar) ? 1 : 0;
	else
		ret = check_samples(&s, s.ncols, o.input) || (o.logx && check_log_axis(&s)) ? 1 : 0;
	if (!ret) {
		pp_samples_sort(&s);
		if (!o.quiet) {
			print_table(&s, &o);
			if (o.stacked)
				print_split(&sp, bar, o.npct);
		}
		fflush(stdout);
		catch_signals();
		ret = render(&o, &s, &sp, bar, script);
	}
	pp_stack_parts_free(&sp);
	pp_samples_free(&s);
	return ret;
}

// SPDX-License-Identifier: MIT
/* The files plots/cdf.gp and plots/stack.gp read: a parameter script (gnuplot variables) and
 * small data files, written into a private temporary directory. */
#ifndef PP_PLOTFILES_H
#define PP_PLOTFILES_H

#include <stdbool.h>
#include <stddef.h>

#include "plot/samples.h"
#include "model/split.h"
#include "plot/stacksplit.h"

struct pp_plot_opts {
	const char *term;       /* "png" or "svg" */
	const char *output;     /* the file gnuplot writes */
	const char *title;
	bool logx;
	const double *pct;      /* percentiles to mark, 0..100 */
	size_t npct;
};

/* One fixed colour per component, the same in plots/plot_cdf.py, so plots compare at a glance;
 * a host's --sched parts are shades of its stack's colour. */
const char *pp_component_color(enum pp_component c);
/* A stacked part's colour: its component's (a wait: its wake-up's). */
const char *pp_stack_part_color(enum pp_stack_part p);

/* For cdf.gp, from sorted samples: dir/params.gp, dir/cdf.dat (one block per component with
 * values), dir/marks.dat. 0 or -errno. */
int pp_write_cdf_files(const char *dir, const struct pp_samples *s, const struct pp_plot_opts *o);

/* For stack.gp: dir/params.gp (the parts' names, legend keys and colours: plain words when a
 * host is split into its --sched parts, else the component names) and dir/stack.dat, one bar
 * per entry of bar[] made of the parts of sp. */
int pp_write_stack_files(const char *dir, const struct pp_stack_parts *sp,
			 const struct pp_stack_bar *bar, size_t nbar, const struct pp_plot_opts *o);

#endif

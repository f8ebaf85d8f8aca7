// SPDX-License-Identifier: MIT
/* Finds pingpong's gnuplot scripts (plots/cdf.gp, plots/stack.gp) and runs gnuplot on them. */
#ifndef PP_GNUPLOT_H
#define PP_GNUPLOT_H

#include <signal.h>
#include <stddef.h>

/* Looks for name in $PINGPONG_PLOTS_DIR, then beside the binary: <bindir>/../plots (the source
 * tree, binary in build/), then <bindir>/../share/pingpong (installed under a prefix).
 * 0 or -ENOENT. */
int pp_find_plot_script(const char *name, char *path, size_t len);

/* Runs `gnuplot PARAMS SCRIPT` (the program is $GNUPLOT if set), its stdout sent to stderr.
 * 0; -ENOENT no gnuplot; -EIO gnuplot failed; -EINTR *stop became set (gnuplot is stopped). */
int pp_run_gnuplot(const char *params, const char *script, volatile sig_atomic_t *stop);

#endif

// SPDX-License-Identifier: MIT
/* TEMP stub */
#include <errno.h>
#include <stdlib.h>
#include "analyze/live_report.h"
struct pp_live_report { int x; };
int pp_live_report_new(struct pp_live_report **out, uint64_t period_ns, FILE *out_file)
{ (void)period_ns; (void)out_file; *out = calloc(1, sizeof(**out)); return *out ? 0 : -ENOMEM; }
int pp_live_report_add(struct pp_live_report *r, uint64_t t_ns, const struct pp_row *row) { (void)r; (void)t_ns; (void)row; return 0; }
int pp_live_report_flush(struct pp_live_report *r) { (void)r; return 0; }
void pp_live_report_free(struct pp_live_report *r) { free(r); }

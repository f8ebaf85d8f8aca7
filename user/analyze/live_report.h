// SPDX-License-Identifier: MIT
/* TEMP stub: the summary branch brings the real one */
#ifndef PP_LIVE_REPORT_H
#define PP_LIVE_REPORT_H
#include <stdint.h>
#include <stdio.h>
#include "model/split.h"
struct pp_live_report;
int pp_live_report_new(struct pp_live_report **out, uint64_t period_ns, FILE *out_file);
int pp_live_report_add(struct pp_live_report *r, uint64_t t_ns, const struct pp_row *row);
int pp_live_report_flush(struct pp_live_report *r);
void pp_live_report_free(struct pp_live_report *r);
#endif

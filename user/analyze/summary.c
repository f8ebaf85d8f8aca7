// SPDX-License-Identifier: MIT
/* The run's summary: collects every component's samples in bounded memory (histogram.h), then
 * states what was measured and lost before any number, and gives p50 p90 p99 p99.9 max mean
 * as text and JSON. Both forms print the same doubles with the same precision, so they agree
 * digit for digit. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/atomic_file.h"
#include "common/histogram.h"
#include "analyze/summary.h"

/* One host's stack and its --sched parts (stack_parts' order), summed over the rows that have
 * all of them. */
#define STACK_SUMS 5
struct stack_sums {
	uint64_t rows;
	__int128 ns[STACK_SUMS];
};

struct pp_summary {
	struct pp_hist *comp[PP_NCOMPONENTS]; /* NULL until the component's first sample */
	uint64_t lacking[PP_NSLOTS]; /* incomplete rows without each point */
	struct stack_sums parts[2];  /* client, server */
};

struct stat_line {
	uint64_t n;
	double p50, p90, p99, p999, max, mean;
};

/* Table order: the round trip, its parts as a message meets them, the parts of the network
 * and of each stack (as results.csv has them), then the app's own clock. */
static const enum pp_component table_order[] = {
	PP_RTT, PP_CLIENT_STACK, PP_NETWORK, PP_SERVER_STACK, PP_SERVER_APP,
	PP_CLIENT_DEV, PP_WIRE, PP_SERVER_DEV,
	PP_CLIENT_PROC, PP_CLIENT_WAKEUP, PP_CLIENT_IDLE, PP_CLIENT_RETURN,
	PP_SERVER_PROC, PP_SERVER_WAKEUP, PP_SERVER_IDLE, PP_SERVER_RETURN,
	PP_RTT_APP,
};
_Static_assert(sizeof(table_order) / sizeof(table_order[0]) == PP_NCOMPONENTS,
	       "every component has a place in the table");

/* Each host's stack and the components that split it (--sched), with their JSON names. */
static const char *const stack_part_name[STACK_SUMS] = { "stack", "proc", "wakeup", "idle", "return" };
static const struct {
	const char *host;
	enum pp_component comp[STACK_SUMS];
} stack_parts[2] = {
	{ "client", { PP_CLIENT_STACK, PP_CLIENT_PROC, PP_CLIENT_WAKEUP, PP_CLIENT_IDLE, PP_CLIENT_RETURN } },
	{ "server", { PP_SERVER_STACK, PP_SERVER_PROC, PP_SERVER_WAKEUP, PP_SERVER_IDLE, PP_SERVER_RETURN } },
};

struct pp_summary *pp_summary_new(void)
{
	return calloc(1, sizeof(struct pp_summary));
}

int pp_summary_add(struct pp_summary *s, const struct pp_row *row)
{
	struct pp_split split;
	int rc;

	pp_split_row(row, &split);
	if (row->flags & PP_ROW_INCOMPLETE)
		for (int slot = 0; slot < PP_NSLOTS; slot++)
			s->lacking[slot] += !row->ts[slot];
	for (int c = 0; c < PP_NCOMPONENTS; c++) {
		if (!pp_split_has(&split, c))
			continue;
		if (!s->comp[c] && (rc = pp_hist_new(&s->comp[c], PP_SUMMARY_EXACT)))
			return rc;
		if ((rc = pp_hist_add(s->comp[c], split.ns[c])))
			return rc;
	}
	for (int h = 0; h < 2; h++) {
		const enum pp_component *comp = stack_parts[h].comp;

		/* split_stack sets all four parts or none, and only where the stack is */
		if (!pp_split_has(&split, comp[0]) || !pp_split_has(&split, comp[1]))
			continue;
		s->parts[h].rows++;
		for (int k = 0; k < STACK_SUMS; k++)
			s->parts[h].ns[k] += split.ns[comp[k]];
	}
	return 0;
}

/* The means of a host's sums in microseconds, in stack_parts' order. */
static void means_us(const struct stack_sums *sum, double us[STACK_SUMS])
{
	for (int k = 0; k < STACK_SUMS; k++)
		us[k] = (double)sum->ns[k] / (double)sum->rows / 1000.0;
}

/* Where each host's stack went (--sched): the table's percentiles of proc, wakeup and return
 * do not add up to the stack's (the p50 row of one is not that of another), so a user who
 * asks "how much of my 30 us stack was waking up?" gets means over the same rows, which do:
 * stack = proc + wakeup + return exactly (up to the printed rounding), idle a part of wakeup.
 * Nothing is printed for a host without the parts, so a run without --sched reads as before. */
static void print_stack_parts(const struct pp_summary *s, FILE *out)
{
	for (int h = 0; h < 2; h++) {
		double us[STACK_SUMS];

		if (!s->parts[h].rows)
			continue;
		means_us(&s->parts[h], us);
		fprintf(out, "%s stack, mean of %" PRIu64 " rows: %.3f us = proc %.3f + wakeup %.3f "
			"(of it CPU idle %.3f) + return %.3f\n", stack_parts[h].host, s->parts[h].rows,
			us[0], us[1], us[2], us[3], us[4]);
	}
}

/* "stack_parts": the same means as print_stack_parts, only for a host that has them. */
static void json_stack_parts(const struct pp_summary *s, FILE *f)
{
	const char *sep = "";

	if (!s->parts[0].rows && !s->parts[1].rows)
		return;
	fprintf(f, "  \"stack_parts_mean\": {");
	for (int h = 0; h < 2; h++) {
		double us[STACK_SUMS];

		if (!s->parts[h].rows)
			continue;
		means_us(&s->parts[h], us);
		fprintf(f, "%s \"%s\": { \"rows\": %" PRIu64, sep, stack_parts[h].host, s->parts[h].rows);
		for (int k = 0; k < STACK_SUMS; k++)
			fprintf(f, ", \"%s\": %.3f", stack_part_name[k], us[k]);
		fprintf(f, " }");
		sep = ",";
	}
	fprintf(f, " },\n");
}

/* In microseconds, as results.csv prints them: ns / 1000 before any arithmetic, as the
 * summary did when it kept every sample, so exact figures keep their digits. */
static bool stat_of(struct pp_hist *h, struct stat_line *out)
{
	if (!h || !pp_hist_count(h))
		return false;
	*out = (struct stat_line){
		.n = pp_hist_count(h),
		.p50 = pp_hist_percentile(h, 50, 1000.0),
		.p90 = pp_hist_percentile(h, 90, 1000.0),
		.p99 = pp_hist_percentile(h, 99, 1000.0),
		.p999 = pp_hist_percentile(h, 99.9, 1000.0),
		.max = (double)pp_hist_max(h) / 1000.0,
		.mean = pp_hist_mean(h, 1000.0),
	};
	return true;
}

static void print_absent(FILE *out, const struct pp_summary_info *info)
{
	if (!info->traced)
		fprintf(out, "kernel points: not traced; only rtt_app (the client's own clock around "
			     "send..recv) is measured\n");
	if (!info->server_events)
		fprintf(out, "server events: none; server_stack, server_app and network are empty\n");
	if (!info->capture)
		fprintf(out, "wire capture: off; client_dev, wire and server_dev are empty\n");
}

static uint64_t cost_exchanges(const struct pp_summary_info *info)
{
	return info->cost_exchanges ? info->cost_exchanges : info->exchanges;
}

/* "client 4.321 us (14.0 runs)", "server unknown" */
static void print_one_cost(FILE *out, const char *host, const struct pp_probe_cost *c, uint64_t n)
{
	if (!c->known)
		fprintf(out, "%s unknown", host);
	else if (!n)
		fprintf(out, "%s %.3f ms in %" PRIu64 " runs", host, (double)c->bpf_ns / 1e6, c->runs);
	else
		fprintf(out, "%s %.3f us (%.1f runs)", host, (double)c->bpf_ns / 1e3 / (double)n,
			(double)c->runs / (double)n);
}

/* The probe's own cost: how much of the stacks is the measurement itself. */
static void print_cost(FILE *out, const struct pp_summary_info *info)
{
	const struct pp_probe_cost *c = &info->cost_client, *sv = &info->cost_server;
	uint64_t n = cost_exchanges(info);

	if (!c->present && !sv->present)
		return;
	fprintf(out, "probe cost: BPF run time per exchange: ");
	if (c->present)
		print_one_cost(out, "client", c, n);
	if (c->present && sv->present)
		fprintf(out, ", ");
	if (sv->present)
		print_one_cost(out, "server", sv, n);
	if ((c->present && !c->known) || (sv->present && !sv->known))
		fprintf(out, " (--probe-cost on a host measures its own)");
	fputc('\n', out);
}

static void json_one_cost(FILE *f, const char *host, const struct pp_probe_cost *c, uint64_t n)
{
	fprintf(f, "\"%s\": ", host);
	if (!c->present || !c->known) {
		fprintf(f, "null");
		return;
	}
	fprintf(f, "{ \"bpf_ns\": %" PRIu64 ", \"runs\": %" PRIu64 ", \"ns_per_exchange\": ",
		c->bpf_ns, c->runs);
	if (n)
		fprintf(f, "%.1f }", (double)c->bpf_ns / (double)n);
	else
		fprintf(f, "null }");
}

/* "probe_cost": a host not traced, or whose cost is unknown, is null */
static void json_cost(FILE *f, const struct pp_summary_info *info)
{
	uint64_t n = cost_exchanges(info);

	if (!info->cost_client.present && !info->cost_server.present)
		return;
	fprintf(f, "  \"probe_cost\": { ");
	json_one_cost(f, "client", &info->cost_client, n);
	fprintf(f, ", ");
	json_one_cost(f, "server", &info->cost_server, n);
	fprintf(f, ", \"exchanges\": %" PRIu64 " },\n", n);
}

/* Which points the incomplete rows lack: a lost sample, a dropped frame or a hit the kernel
 * never ran our programs for shows here as the point it took away. item_fmt takes the slot's
 * name and the count; items are joined by commas. */
static void print_lacking(const struct pp_summary *s, const struct pp_summary_info *info, FILE *out,
			  const char *item_fmt)
{
	const char *sep = "";

	for (int slot = 0; slot < PP_NSLOTS; slot++) {
		if (!(info->required_slots & (1u << slot)) || !s->lacking[slot])
			continue;
		fputs(sep, out);
		fprintf(out, item_fmt, pp_slot_name[slot], s->lacking[slot]);
		sep = ",";
	}
}

static bool names_lacking(const struct pp_summary_info *info)
{
	return info->incomplete && info->required_slots;
}

int pp_summary_print(struct pp_summary *s, const struct pp_summary_info *info, FILE *out)
{
	struct stat_line st;
	bool any = false;

	fprintf(out, "pingpong: %s\n", info->what ? info->what : "");
	fprintf(out, "measured: %" PRIu64 " exchanges, %" PRIu64 " matched, %" PRIu64
		" incomplete, %" PRIu64 " retransmitted\n",
		info->exchanges, info->matched, info->incomplete, info->retransmitted);
	/* lost: events a host took but could not keep, perf buffer full or store full */
	fprintf(out, "lost: %" PRIu64 " events (client %" PRIu64 ", server %" PRIu64 "), %" PRIu64
		" pcap drops (client %" PRIu64 ", server %" PRIu64 ")\n",
		info->lost_samples_client + info->lost_samples_server, info->lost_samples_client,
		info->lost_samples_server, info->pcap_drops_client + info->pcap_drops_server,
		info->pcap_drops_client, info->pcap_drops_server);
	print_cost(out, info);
	if (names_lacking(info)) {
		fprintf(out, "incomplete rows lack:");
		print_lacking(s, info, out, " %s %" PRIu64);
		fputc('\n', out);
	}
	print_absent(out, info);
	if (info->points_client)
		fprintf(out, "send/recv points (client): %s\n", info->points_client);
	fprintf(out, "\n%-13s %9s %11s %11s %11s %11s %11s %11s\n", "component/us", "samples",
		"p50", "p90", "p99", "p99.9", "max", "mean");
	for (size_t i = 0; i < PP_NCOMPONENTS; i++) {
		enum pp_component c = table_order[i];

		if (!stat_of(s->comp[c], &st))
			continue;
		any = true;
		fprintf(out, "%-13s %9" PRIu64 " %11.3f %11.3f %11.3f %11.3f %11.3f %11.3f\n",
			pp_component_name[c], st.n, st.p50, st.p90, st.p99, st.p999, st.max, st.mean);
	}
	if (!any)
		fprintf(out, "(no samples)\n");
	print_stack_parts(s, out);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_body(struct pp_summary *s, const struct pp_summary_info *info, FILE *f)
{
	struct stat_line st;
	bool first = true;

	fprintf(f, "{\n  \"what\": ");
	json_string(f, info->what);
	fprintf(f, ",\n  \"exchanges\": %" PRIu64 ",\n  \"matched\": %" PRIu64
		",\n  \"incomplete\": %" PRIu64 ",\n  \"retransmitted\": %" PRIu64 ",\n",
		info->exchanges, info->matched, info->incomplete, info->retransmitted);
	fprintf(f, "  \"lost_samples\": { \"client\": %" PRIu64 ", \"server\": %" PRIu64 " },\n",
		info->lost_samples_client, info->lost_samples_server);
	fprintf(f, "  \"pcap_drops\": { \"client\": %" PRIu64 ", \"server\": %" PRIu64 " },\n",
		info->pcap_drops_client, info->pcap_drops_server);
	fprintf(f, "  \"traced\": %s,\n  \"server_events\": %s,\n  \"capture\": %s,\n",
		info->traced ? "true" : "false", info->server_events ? "true" : "false",
		info->capture ? "true" : "false");
	if (info->points_client) {
		fprintf(f, "  \"points\": { \"client\": ");
		json_string(f, info->points_client);
		fprintf(f, " },\n");
	}
	if (names_lacking(info)) {
		fprintf(f, "  \"incomplete_rows_lack\": {");
		print_lacking(s, info, f, " \"%s\": %" PRIu64);
		fprintf(f, " },\n");
	}
	json_cost(f, info);
	if (info->run_start_ns && info->run_end_ns >= info->run_start_ns)
		fprintf(f, "  \"run_ns\": { \"start\": %" PRIu64 ", \"end\": %" PRIu64 " },\n",
			info->run_start_ns, info->run_end_ns);
	if (info->json_extra)
		info->json_extra(info->json_extra_ctx, f);
	json_stack_parts(s, f);
	fprintf(f, "  \"unit\": \"us\",\n  \"components\": {");
	for (size_t i = 0; i < PP_NCOMPONENTS; i++) {
		enum pp_component c = table_order[i];

		if (!stat_of(s->comp[c], &st))
			continue;
		fprintf(f, "%s\n    \"%s\": { \"samples\": %" PRIu64 ", \"p50\": %.3f, \"p90\": %.3f, "
			"\"p99\": %.3f, \"p99.9\": %.3f, \"max\": %.3f, \"mean\": %.3f }",
			first ? "" : ",", pp_component_name[c], st.n, st.p50, st.p90, st.p99, st.p999,
			st.max, st.mean);
		first = false;
	}
	fprintf(f, "%s}\n}\n", first ? "" : "\n  ");
}

int pp_summary_write_json(struct pp_summary *s, const struct pp_summary_info *info,
			  const char *path)
{
	struct pp_atomic_file file;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int rc;

	mem = open_memstream(&text, &len);
	if (!mem)
		return -ENOMEM;
	json_body(s, info, mem);
	if (fclose(mem)) {
		free(text);
		return -ENOMEM;
	}
	rc = pp_atomic_open(&file, path);
	if (!rc) {
		rc = pp_atomic_write(&file, text, len);
		if (rc)
			pp_atomic_abort(&file);
		else
			rc = pp_atomic_commit(&file);
	}
	free(text);
	return rc;
}

void pp_summary_free(struct pp_summary *s)
{
	if (!s)
		return;
	for (int c = 0; c < PP_NCOMPONENTS; c++)
		pp_hist_free(s->comp[c]);
	free(s);
}

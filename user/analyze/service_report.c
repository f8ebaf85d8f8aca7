// SPDX-License-Identifier: MIT
/* The sink of turns.c: rows into results.csv and the summary as they settle, connections into
 * a bounded list as they end; then the text and JSON reports (service_report.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/results.h"
#include "analyze/service_report.h"
#include "common/histogram.h"

struct named_conn {
	uint64_t id, exchanges, rows, complete, rows_before;
	bool pipelined, seen[2];
	struct pp_flow_key flow;
};

struct conn_list {
	struct named_conn *v;
	size_t n, cap;
	uint64_t unnamed;            /* past PP_SERVICE_LIST_MAX */
};

struct pp_service_report {
	struct pp_results *results;
	struct pp_summary *summary;
	struct pp_hist *requests;    /* rows per split connection the client's log showed */
	struct conn_list split, pipelined;
	uint64_t only[2];            /* connections one host's events lack entirely */
	uint64_t rows;
	uint64_t malformed;          /* found by the caller (pp_service_report_add_malformed) */
	const struct pp_turns_stats *json_st; /* for the JSON hook */
};

int pp_service_report_open(struct pp_service_report **out, const char *results_path)
{
	struct pp_service_report *r = calloc(1, sizeof(*r));
	int err;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	if (!(r->summary = pp_summary_new()) || pp_hist_new(&r->requests, PP_HIST_EXACT_DEFAULT) < 0) {
		pp_service_report_free(r);
		return -ENOMEM;
	}
	if (results_path && (err = pp_results_open_turns(&r->results, results_path)) < 0) {
		pp_service_report_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void pp_service_report_tee(struct pp_service_report *r, int fd)
{
	if (r->results)
		pp_results_tee(r->results, fd);
}

int pp_service_report_row(void *ctx, const struct pp_turn *turn)
{
	struct pp_service_report *r = ctx;
	int err;

	if (r->results && (err = pp_results_write_turn(r->results, turn->conn, turn->req_bytes,
						       turn->resp_bytes, turn->row)) < 0)
		return err;
	r->rows++;
	return pp_summary_add(r->summary, turn->row);
}

static int keep(struct conn_list *l, const struct pp_turns_conn *c)
{
	if (l->n == PP_SERVICE_LIST_MAX) {
		l->unnamed++;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct named_conn *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct named_conn){
		.id = c->conn, .exchanges = c->exchanges, .rows = c->rows, .complete = c->complete,
		.rows_before = c->rows_before_pipelined, .pipelined = c->pipelined,
		.seen = { c->seen[0], c->seen[1] }, .flow = *c->flow };
	return 0;
}

int pp_service_report_conn(void *ctx, const struct pp_turns_conn *c)
{
	struct pp_service_report *r = ctx;
	int err;

	for (int h = 0; h < 2; h++)
		r->only[h] += c->seen[h] && !c->seen[1 - h];
	if (c->pipelined)
		return keep(&r->pipelined, c);
	/* a connection the client's events never showed has no turns: nothing to count */
	if (c->seen[PP_CLIENT] && (err = pp_hist_add(r->requests, (int64_t)c->rows)) < 0)
		return err;
	return keep(&r->split, c);
}

int pp_service_report_commit(struct pp_service_report *r)
{
	int err = r->results ? pp_results_commit(r->results) : 0;

	r->results = NULL;
	return err;
}

void pp_service_report_add_malformed(struct pp_service_report *r, uint64_t n)
{
	r->malformed += n;
}

uint64_t pp_service_report_rows(const struct pp_service_report *r)
{
	return r->rows;
}

static int cmp_id(const void *a, const void *b)
{
	const struct named_conn *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* By connection id (they end in any order); an empty list may have no array at all. */
static void sort_lists(struct pp_service_report *r)
{
	if (r->split.n > 1)
		qsort(r->split.v, r->split.n, sizeof(*r->split.v), cmp_id);
	if (r->pipelined.n > 1)
		qsort(r->pipelined.v, r->pipelined.n, sizeof(*r->pipelined.v), cmp_id);
}

/* The figures every report gives, from the stats. */
static void fill_info(const struct pp_turns_stats *st, struct pp_summary_info *info)
{
	info->exchanges = st->rows;
	info->matched = st->complete;
	info->incomplete = st->incomplete;
	info->retransmitted = st->retransmitted;
	if (!info->required_slots)
		info->required_slots = PP_SLOTS_SPLIT;
}

int pp_service_report_print(struct pp_service_report *r, const struct pp_turns_stats *st,
			    struct pp_summary_info *info, bool verbose, FILE *out)
{
	char flow[PP_FLOW_KEY_STRLEN];
	uint64_t n = pp_hist_count(r->requests);
	int err;

	fill_info(st, info);
	if ((err = pp_summary_print(r->summary, info, out)) < 0)
		return err;
	sort_lists(r);
	/* a connection one log lacks has no turns (client) or no server points (server) */
	fprintf(out, "connections: %" PRIu64 " (at most %" PRIu64 " open at once; %" PRIu64
		" in the client's events only, %" PRIu64 " in the server's only), %" PRIu64
		" pipelined, not split\n", st->connections, st->conns_high_water, r->only[PP_CLIENT],
		r->only[PP_SERVER], st->pipelined);
	for (size_t i = 0; i < r->pipelined.n; i++) {
		const struct named_conn *c = &r->pipelined.v[i];

		fprintf(out, "connection %s: pipelined, not split (%" PRIu64 " turns",
			pp_flow_key_str(&c->flow, flow, sizeof(flow)), c->exchanges);
		if (c->rows_before)
			fprintf(out, "; %" PRIu64 " rows written before it showed", c->rows_before);
		fprintf(out, ")\n");
	}
	if (r->pipelined.unnamed)
		fprintf(out, "... and %" PRIu64 " more pipelined connections\n", r->pipelined.unnamed);
	if (st->overlaps_dismissed)
		fprintf(out, "answers that seemed ahead of their request, explained by a lost server "
			"recv event: %" PRIu64 " (not taken for pipelining)\n", st->overlaps_dismissed);
	if (n)
		fprintf(out, "requests per connection: min %" PRId64 ", median %.1f, max %" PRId64
			" (%" PRIu64 " connection%s split)\n", pp_hist_min(r->requests),
			pp_hist_percentile(r->requests, 50, 1), pp_hist_max(r->requests), n,
			n == 1 ? "" : "s");
	if (verbose) {
		for (size_t i = 0; i < r->split.n; i++) {
			const struct named_conn *c = &r->split.v[i];

			fprintf(out, "connection %" PRIu64 " %s: %" PRIu64 " requests, %" PRIu64 " rows, %"
				PRIu64 " complete\n", c->id, pp_flow_key_str(&c->flow, flow, sizeof(flow)),
				c->exchanges, c->rows, c->complete);
		}
		if (r->split.unnamed)
			fprintf(out, "... and %" PRIu64 " more connections\n", r->split.unnamed);
	}
	fprintf(out, "events: client %" PRIu64 ", server %" PRIu64 "; used %" PRIu64 "; ignored: "
		"other ports %" PRIu64 ", without payload %" PRIu64 ", before a connection's first "
		"turn %" PRIu64 ", after their exchange %" PRIu64 ", outside every turn %" PRIu64
		", of connections not in the client's events %" PRIu64 ", of pipelined connections %"
		PRIu64 ", out of time order %" PRIu64 ", malformed %" PRIu64 "\n",
		st->events_in[PP_CLIENT], st->events_in[PP_SERVER], st->events_used, st->events_foreign,
		st->events_no_payload, st->events_before_first, st->events_late, st->events_unplaced,
		st->events_no_client, st->events_pipelined, st->events_out_of_order,
		st->events_bad + r->malformed);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

static void json_conn_list(FILE *f, const char *name, const struct conn_list *l)
{
	char flow[PP_FLOW_KEY_STRLEN];

	fprintf(f, "    \"%s\": [", name);
	for (size_t i = 0; i < l->n; i++) {
		const struct named_conn *c = &l->v[i];

		fprintf(f, "%s\n      { \"id\": %" PRIu64 ", \"flow\": \"%s\", \"turns\": %" PRIu64
			", \"rows\": %" PRIu64 ", \"complete\": %" PRIu64 " }", i ? "," : "", c->id,
			pp_flow_key_str(&c->flow, flow, sizeof(flow)), c->exchanges, c->rows, c->complete);
	}
	fprintf(f, "%s],\n    \"%s_unlisted\": %" PRIu64, l->n ? "\n    " : "", name, l->unnamed);
}

/* "connections": counts, requests per connection, and the connections by name. */
static void json_connections(void *ctx, FILE *f)
{
	struct pp_service_report *r = ctx;
	const struct pp_turns_stats *st = r->json_st;
	uint64_t n = pp_hist_count(r->requests);

	fprintf(f, "  \"connections\": {\n    \"total\": %" PRIu64 ",\n    \"max_open\": %" PRIu64
		",\n    \"pipelined\": %" PRIu64 ",\n    \"client_only\": %" PRIu64
		",\n    \"server_only\": %" PRIu64 ",\n", st->connections, st->conns_high_water,
		st->pipelined, r->only[PP_CLIENT], r->only[PP_SERVER]);
	if (n)
		fprintf(f, "    \"requests_per_connection\": { \"connections\": %" PRIu64 ", \"min\": %"
			PRId64 ", \"median\": %.1f, \"max\": %" PRId64 " },\n", n,
			pp_hist_min(r->requests), pp_hist_percentile(r->requests, 50, 1),
			pp_hist_max(r->requests));
	json_conn_list(f, "split", &r->split);
	fprintf(f, ",\n");
	json_conn_list(f, "pipelined_list", &r->pipelined);
	fprintf(f, "\n  },\n");
}

int pp_service_report_json(struct pp_service_report *r, const struct pp_turns_stats *st,
			   struct pp_summary_info *info, const char *path)
{
	int err;

	fill_info(st, info);
	sort_lists(r);
	r->json_st = st;
	info->json_extra = json_connections;
	info->json_extra_ctx = r;
	err = pp_summary_write_json(r->summary, info, path);
	info->json_extra = NULL;
	info->json_extra_ctx = NULL;
	return err;
}

void pp_service_report_free(struct pp_service_report *r)
{
	if (!r)
		return;
	if (r->results)
		pp_results_abort(r->results);
	if (r->summary)
		pp_summary_free(r->summary);
	pp_hist_free(r->requests);
	free(r->split.v);
	free(r->pipelined.v);
	free(r);
}

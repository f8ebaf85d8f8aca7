// SPDX-License-Identifier: MIT
/* pingpong-analyze: correlates two saved event logs (client host, server host) offline into
 * results.csv and the summary, exactly as pingpong-client does after a live run. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/conn.h"
#include "analyze/correlate.h"
#include "collect/eventlog.h"
#include "analyze/results.h"
#include "analyze/summary.h"
#include "analyze/service_report.h"
#include "analyze/turns.h"
#include "common/stats.h"
#include "common/log.h"
#include "common/opts.h"

#define PROG "pingpong-analyze"

struct options {
	uint32_t size;                /* 0 = the client's most common send length */
	uint64_t count;               /* 0 = as many as the logs show */
	const char *output;
	const char *summary_json;
	bool have_ping_seq, have_pong_seq;
	uint32_t ping_seq, pong_seq;
	bool have_skip;
	uint64_t ping_skip, pong_skip;
	uint64_t start_ns;
	bool turns;                   /* exchanges from turn-taking, every connection of the port */
	uint16_t port;                /* --turns: the service's port; 0 = the client's first send's */
	int verbose;
	const char *client_log, *server_log;
};

typedef struct options cfg_t;

/* Both: the two directions' handshakes differ, a shared value would misalign. */
static int take_skip(const struct pp_opts_spec *spec, const struct pp_opt *opt, const char *arg,
		     void *cfg, struct pp_err *err)
{
	struct options *o = cfg;
	const char *comma = strchr(arg, ',');
	char ping[32];

	if (!comma || (size_t)(comma - arg) >= sizeof(ping))
		return pp_opt_bad_value(spec, opt, opt->range, arg, err);
	memcpy(ping, arg, (size_t)(comma - arg));
	ping[comma - arg] = '\0';
	if (pp_parse_u64(ping, 0, UINT32_MAX, &o->ping_skip) ||
	    pp_parse_u64(comma + 1, 0, UINT32_MAX, &o->pong_skip))
		return pp_opt_bad_value(spec, opt, opt->range, arg, err);
	o->have_skip = true;
	return 0;
}

static int take_seq(const struct pp_opts_spec *spec, const struct pp_opt *opt, const char *arg,
		    void *cfg, struct pp_err *err)
{
	struct options *o = cfg;
	bool ping = strcmp(opt->name, "ping-seq") == 0;
	uint64_t v;
	int rc;

	if ((rc = pp_opt_number(spec, opt, arg, &v, err)) < 0)
		return rc;
	*(ping ? &o->ping_seq : &o->pong_seq) = (uint32_t)v;
	*(ping ? &o->have_ping_seq : &o->have_pong_seq) = true;
	return 0;
}

static const struct pp_opt options[] = {
	{ "size", 's', PP_OPT_UINT, PP_OPT_AT(cfg_t, size), .metavar = "BYTES", .min = 1,
	  .max = PP_MSG_SIZE_MAX, .unit = "bytes", .help = "message size",
	  .def = "the client's most common send length" },
	{ "count", 'n', PP_OPT_UINT, PP_OPT_AT(cfg_t, count), .metavar = "N", .min = 1,
	  .max = UINT64_MAX, .range = "a positive number of exchanges",
	  .help = "exchanges recorded", .def = "as many as the logs show" },
	{ "output", 'o', PP_OPT_STRING, PP_OPT_AT(cfg_t, output), .metavar = "FILE",
	  .help = "results CSV" },
	{ "summary-json", 'j', PP_OPT_STRING, PP_OPT_AT(cfg_t, summary_json), .metavar = "FILE",
	  .help = "also write the summary as JSON" },
	{ "skip-bytes", 0, PP_OPT_CUSTOM, 0, 0, .metavar = "P,Q", .parse = take_skip,
	  .range = "PING,PONG bytes, each 0..4294967295",
	  .help = "exchange 0 is P (Q) bytes after the first ping (pong) byte of the connection: "
		  "handshake + warm-up of each direction" },
	{ "start-ns", 0, PP_OPT_UINT, PP_OPT_AT(cfg_t, start_ns), .metavar = "NS", .min = 1,
	  .max = UINT64_MAX, .range = "a positive CLOCK_MONOTONIC time in ns", .no_default = true,
	  .help = "exchange 0 is the client's first send/recv at or after this CLOCK_MONOTONIC "
		  "time (client clock)" },
	{ "ping-seq", 0, PP_OPT_CUSTOM, 0, 0, .metavar = "SEQ", .parse = take_seq,
	  .max = UINT32_MAX, .help = "TCP seq of exchange 0's first ping byte (overrides the above)" },
	{ "pong-seq", 0, PP_OPT_CUSTOM, 0, 0, .metavar = "SEQ", .parse = take_seq,
	  .max = UINT32_MAX, .help = "TCP seq of exchange 0's first pong byte" },
	{ "turns", 't', PP_OPT_FLAG, PP_OPT_AT(cfg_t, turns),
	  .help = "any request/response service: every connection of the port, exchanges from "
		  "turn-taking (a request is what the client sends until it reads), any sizes; "
		  "adds columns conn,index,req_bytes,resp_bytes" },
	{ "port", 'p', PP_OPT_UINT, PP_OPT_AT(cfg_t, port), .metavar = "PORT", .min = 1,
	  .max = 65535, .help = "with --turns: the service's TCP port",
	  .def = "the port of the client's earliest send" },
	PP_OPT_VERBOSE(cfg_t, verbose, "with --turns: the requests of every connection"),
	{ 0 },
};

/* Where parsing starts; --help shows these as the defaults. */
static const cfg_t defaults = { .output = "results.csv" };

static const struct pp_opts_spec spec = {
	PP_OPTS_TABLE(options, defaults),
	.usage = "Usage: " PROG " [OPTIONS] CLIENT_EVENTS.csv SERVER_EVENTS.csv\n"
		 "Matches the two hosts' events (pingpong-ebpf --output logs) exchange by exchange and\n"
		 "writes one row per exchange plus the summary, as pingpong-client does live.\n",
	.epilog = "Default: exchange 0 is the client's first send of a whole message (warm-up exchanges\n"
		  "count as rows). The connection is the client's earliest send; events of other\n"
		  "connections, pure ACKs and earlier bytes are ignored and counted. Numbers are\n"
		  "decimal. Exit: 0 ok, 1 failure, 2 usage.\n",
};

/* 0 to go on, else the exit status (0 after --help). */
static int parse_args(int argc, char **argv, struct options *o, bool *done)
{
	struct pp_err err = { 0 };
	int rc, first;

	if ((rc = pp_opts_parse(&spec, argc, argv, o, &first, &err)) != PP_OPTS_OK) {
		*done = true;
		return rc == PP_OPTS_HELP ? (pp_opts_usage(&spec, stdout), 0)
		                          : pp_log_fail(&err, 2);
	}
	if (argc - first != 2) {
		pp_log_error("expected CLIENT_EVENTS.csv SERVER_EVENTS.csv (got %d file%s)",
			     argc - first, argc - first == 1 ? "" : "s");
		*done = true;
		return 2;
	}
	if (o->turns && (o->size || o->count || o->have_skip || o->start_ns || o->have_ping_seq ||
			 o->have_pong_seq)) {
		pp_log_error("--turns finds every exchange itself: it takes none of --size, --count, "
			     "--skip-bytes, --start-ns, --ping-seq, --pong-seq");
		*done = true;
		return 2;
	}
	if (!o->turns && (o->port || o->verbose)) {
		pp_log_error("--port and --verbose go with --turns");
		*done = true;
		return 2;
	}
	o->client_log = argv[first];
	o->server_log = argv[first + 1];
	return 0;
}

/* ---- first pass over the client's log: the connection, its SYN, the message size ---- */

struct len_stat {
	uint32_t len;
	uint64_t n;
	uint64_t first_ts;             /* entry of the earliest send of this length */
	uint32_t first_seq;            /* and its first byte */
};

#define MAX_LENS 64
#define MAX_SYNS 4096

struct client_scan {
	bool have_flow;
	struct pp_flow_key flow;
	uint64_t first_send_ts;
	struct len_stat lens[MAX_LENS]; /* the client's send lengths: size, and where pings start */
	int nlens;
	struct pp_event *syns;         /* SYN events, any flow: the instance is picked later */
	size_t nsyn;
	bool capture;                  /* wire points were recorded */
};

static void count_send(struct client_scan *cs, const struct pp_event *ev)
{
	for (int i = 0; i < cs->nlens; i++)
		if (cs->lens[i].len == ev->len) {
			cs->lens[i].n++;
			if (ev->ts_ns < cs->lens[i].first_ts) {
				cs->lens[i].first_ts = ev->ts_ns;
				cs->lens[i].first_seq = ev->seq;
			}
			return;
		}
	if (cs->nlens < MAX_LENS)
		cs->lens[cs->nlens++] = (struct len_stat){ ev->len, 1, ev->ts_ns, ev->seq };
}

static const struct len_stat *find_len(const struct client_scan *cs, uint32_t len)
{
	const struct len_stat *best = NULL;

	for (int i = 0; i < cs->nlens; i++)
		if (len ? cs->lens[i].len == len : (!best || cs->lens[i].n > best->n))
			best = &cs->lens[i];
	return best;
}

static int open_log(struct pp_eventlog_reader **r, const char *path)
{
	int err = pp_eventlog_open(r, path);

	if (err < 0)
		pp_log_error("%s: %s", path, strerror(-err));
	return err;
}

/* The client log holds the traced client's calls only (tgid filter), so its sends are ours. */
static int scan_client(const struct options *o, struct client_scan *cs)
{
	struct pp_eventlog_reader *r;
	struct pp_event ev;
	int err;

	memset(cs, 0, sizeof(*cs));
	if (!(cs->syns = malloc(MAX_SYNS * sizeof(*cs->syns))))
		return -ENOMEM;
	if ((err = open_log(&r, o->client_log)) < 0)
		return err;
	while ((err = pp_eventlog_next(r, &ev)) > 0) {
		if (ev.point == PP_SEND && ev.len && ev.ts_ns >= o->start_ns) {
			if (!cs->have_flow || ev.ts_ns < cs->first_send_ts) {
				pp_flow_key_from_event(&cs->flow, &ev, true);
				cs->first_send_ts = ev.ts_ns;
				cs->have_flow = true;
			}
			count_send(cs, &ev);
		}
		if (pp_event_is_opening_syn(&ev) && cs->nsyn < MAX_SYNS)
			cs->syns[cs->nsyn++] = ev;
		if (ev.point == PP_WIRE_TX || ev.point == PP_WIRE_RX)
			cs->capture = true;
	}
	pp_eventlog_close(r);
	if (err < 0)
		pp_log_error("%s: %s", o->client_log, strerror(-err));
	return err;
}

/* The first byte of exchange 0's pong: the client's earliest recv of the connection at or after
 * start_ns, by time, over the whole log. An event log is in arrival order, and a CPU's last
 * partial batch may arrive at the very end (the tracer's flush at stop): the correlator alone
 * would take the earliest recv it has seen when it decides, a later pong. 1 if found. */
static int first_pong(const struct options *o, const struct pp_flow_key *flow, uint64_t start_ns,
		      uint32_t *seq)
{
	struct pp_eventlog_reader *r;
	struct pp_event ev;
	uint64_t best = 0;
	int err, found = 0;

	if ((err = open_log(&r, o->client_log)) < 0)
		return err;
	while ((err = pp_eventlog_next(r, &ev)) > 0)
		if (ev.point == PP_RECV && ev.len && ev.ts_ns >= start_ns &&
		    pp_flow_dir(flow, &ev) == PP_DIR_TO_CLIENT && (!found || ev.ts_ns < best)) {
			best = ev.ts_ns;
			*seq = ev.seq;
			found = 1;
		}
	pp_eventlog_close(r);
	if (err < 0)
		pp_log_error("%s: %s", o->client_log, strerror(-err));
	return err < 0 ? err : found;
}

/* The client's SYN picks the instance of the 4-tuple in both logs (a log may also hold an
 * earlier connection that used the same ports). */
static void client_instance(const struct client_scan *cs, struct pp_instance *in, bool *have_isn, uint32_t *isn)
{
	uint64_t best_ts = 0;

	*have_isn = false;
	for (size_t i = 0; i < cs->nsyn; i++) {
		const struct pp_event *ev = &cs->syns[i];

		if (pp_flow_dir(&cs->flow, ev) == PP_DIR_TO_SERVER && ev->ts_ns <= cs->first_send_ts &&
		    (!*have_isn || ev->ts_ns >= best_ts)) {
			*have_isn = true;
			best_ts = ev->ts_ns;
			*isn = ev->seq;
		}
	}
	pp_instance_init(in, &cs->flow, *have_isn, *isn);
	for (size_t i = 0; i < cs->nsyn; i++)
		pp_instance_scan(in, &cs->syns[i]);
	pp_instance_decide(in);
}

static int server_instance(const char *path, const struct pp_flow_key *flow, bool have_isn, uint32_t isn,
			   struct pp_instance *in)
{
	struct pp_eventlog_reader *r;
	struct pp_event ev;
	int err;

	pp_instance_init(in, flow, have_isn, isn);
	if ((err = open_log(&r, path)) < 0)
		return err;
	while ((err = pp_eventlog_next(r, &ev)) > 0)
		pp_instance_scan(in, &ev);
	pp_eventlog_close(r);
	if (err < 0) {
		pp_log_error("%s: %s", path, strerror(-err));
		return err;
	}
	pp_instance_decide(in);
	return 0;
}

/* ---- the streaming pass ---- */

struct log_source {
	struct pp_eventlog_reader *r;
	const struct pp_instance *inst;
	uint64_t outside;              /* events of other instances of the 4-tuple */
	bool any_of_flow;
};

static int log_next(void *ctx, struct pp_event *ev)
{
	struct log_source *s = ctx;
	int r;

	while ((r = pp_eventlog_next(s->r, ev)) > 0) {
		if (pp_flow_dir(&s->inst->flow, ev) == PP_DIR_NONE)
			return 1;          /* the correlator counts other connections itself */
		if (pp_instance_has(s->inst, ev)) {
			s->any_of_flow = true;
			return 1;
		}
		s->outside++;
	}
	return r;
}

struct sink {
	struct pp_results *results;
	struct pp_summary *summary;
};

static int on_row(void *ctx, struct pp_row *row, const struct pp_split *split)
{
	struct sink *k = ctx;
	int err;

	(void)split;
	if ((err = pp_results_write(k->results, row)) < 0)
		return err;
	return pp_summary_add(k->summary, row);
}

static void print_ignored(const struct pp_correlate_stats *st, const struct log_source src[2],
			  struct pp_eventlog_reader *const readers[2])
{
	printf("events: client %" PRIu64 ", server %" PRIu64 "; used %" PRIu64 "; ignored: other "
	       "connections %" PRIu64 ", without payload %" PRIu64 ", before exchange 0 %" PRIu64
	       ", after the last %" PRIu64 ", earlier use of the 4-tuple %" PRIu64
	       ", malformed log rows %" PRIu64 "\n",
	       st->events_in[PP_CLIENT], st->events_in[PP_SERVER], st->events_used, st->events_foreign,
	       st->events_no_payload, st->events_stale, st->events_after + st->events_unplaced,
	       src[0].outside + src[1].outside,
	       pp_eventlog_bad_rows(readers[0]) + pp_eventlog_bad_rows(readers[1]));
	if (st->events_sched_early) /* --sched logs only: a stale switch-in sorted too early */
		printf("events: %" PRIu64 " sched points too early to place (their rows lack them)\n",
		       st->events_sched_early);
}

static int analyze(const struct options *o)
{
	struct pp_correlate_config cfg = { 0 };
	struct pp_summary_info info = { 0 };
	struct sink sink = { 0 };
	struct client_scan cs = { 0 };
	const struct len_stat *size_stat;
	struct pp_instance inst[2] = { 0 };
	struct log_source src[2] = { 0 };
	struct pp_eventlog_reader *readers[2] = { NULL, NULL };
	struct pp_correlator *c = NULL;
	const struct pp_correlate_stats *st;
	char flow_text[PP_FLOW_KEY_STRLEN], what[512];
	uint32_t isn = 0;
	bool have_isn;
	int err, ret = 1;

	if ((err = scan_client(o, &cs)) < 0)
		goto out;
	if (!cs.have_flow) {
		pp_log_error("%s: no send with payload%s: cannot tell the connection",
			o->client_log, o->start_ns ? " at or after --start-ns" : "");
		goto out;
	}
	size_stat = find_len(&cs, o->size);
	cfg.size = o->size ? o->size : size_stat ? size_stat->len : 0;
	if (!cfg.size || cfg.size > PP_MSG_SIZE_MAX) {
		pp_log_error("cannot tell the message size from %s: give --size", o->client_log);
		goto out;
	}
	client_instance(&cs, &inst[PP_CLIENT], &have_isn, &isn);
	if (server_instance(o->server_log, &cs.flow, have_isn, isn, &inst[PP_SERVER]) < 0)
		goto out;
	/* Unless told where exchange 0 is: at the first send of a whole message (a handshake
	 * before it is shorter), and its pong is the first recv after that on the client. */
	if (!o->start_ns && !o->have_skip && !o->have_ping_seq && !o->have_pong_seq) {
		if (!size_stat) {
			pp_log_error("%s: no send of %" PRIu32 " bytes: give --skip-bytes or --ping-seq",
				o->client_log, cfg.size);
			goto out;
		}
		cfg.start_ns = size_stat->first_ts;
		/* both streams' first bytes from the whole log, not from what arrived first */
		cfg.have_ping_seq = true;
		cfg.ping_seq = size_stat->first_seq;
		if ((err = first_pong(o, &cs.flow, cfg.start_ns, &cfg.pong_seq)) < 0)
			goto out;
		cfg.have_pong_seq = err > 0;
	} else {
		cfg.start_ns = o->start_ns;
	}
	cfg.count = o->count;
	cfg.have_flow = true;
	cfg.flow = cs.flow;
	if (o->have_ping_seq) {
		cfg.have_ping_seq = true;
		cfg.ping_seq = o->ping_seq;
	}
	if (o->have_pong_seq) {
		cfg.have_pong_seq = true;
		cfg.pong_seq = o->pong_seq;
	}
	cfg.ping_skip_bytes = o->ping_skip;
	cfg.pong_skip_bytes = o->pong_skip;
	cfg.on_row = on_row;
	cfg.ctx = &sink;
	if ((err = pp_correlate_new(&c, &cfg)) < 0) {
		pp_log_error("%s", strerror(-err));
		goto out;
	}
	if (!(sink.summary = pp_summary_new())) {
		pp_log_error("%s", strerror(ENOMEM));
		goto out;
	}
	if ((err = pp_results_open(&sink.results, o->output)) < 0) {
		pp_log_error("%s: %s", o->output, strerror(-err));
		goto out;
	}
	if (open_log(&readers[PP_CLIENT], o->client_log) < 0 || open_log(&readers[PP_SERVER], o->server_log) < 0)
		goto out;
	for (int h = 0; h < 2; h++) {
		src[h].r = readers[h];
		src[h].inst = &inst[h];
	}
	err = pp_correlate_run(c, log_next, &src[PP_CLIENT], log_next, &src[PP_SERVER]);
	if (err < 0) {
		pp_log_error("correlating: %s", strerror(-err));
		goto out;
	}
	err = pp_results_commit(sink.results);
	sink.results = NULL;
	if (err < 0) {
		pp_log_error("%s: %s", o->output, strerror(-err));
		goto out;
	}

	st = pp_correlate_stats(c);
	snprintf(what, sizeof(what), "%" PRIu32 " B x %" PRIu64 " exchanges, %s (offline from %s and %s; "
		 "event logs carry no loss counters)",
		 cfg.size, st->rows, pp_flow_key_str(&cs.flow, flow_text, sizeof(flow_text)), o->client_log,
		 o->server_log);
	info.what = what;
	info.exchanges = st->rows;
	info.matched = st->complete;
	info.incomplete = st->incomplete;
	info.retransmitted = st->retransmitted;
	info.required_slots = PP_SLOTS_SPLIT; /* the correlator's default (cfg.required_slots 0) */
	info.traced = src[PP_CLIENT].any_of_flow;
	info.server_events = src[PP_SERVER].any_of_flow;
	info.capture = cs.capture;
	if ((err = pp_summary_print(sink.summary, &info, stdout)) < 0) {
		pp_log_error("printing the summary: %s", strerror(-err));
		goto out;
	}
	if (!info.server_events)
		printf("no events of this connection in %s: server columns are empty\n", o->server_log);
	print_ignored(st, src, readers);
	if (o->summary_json && (err = pp_summary_write_json(sink.summary, &info, o->summary_json)) < 0) {
		pp_log_error("%s: %s", o->summary_json, strerror(-err));
		goto out;
	}
	ret = 0;
out:
	if (sink.results)
		pp_results_abort(sink.results);
	if (sink.summary)
		pp_summary_free(sink.summary);
	for (int h = 0; h < 2; h++) {
		if (readers[h])
			pp_eventlog_close(readers[h]);
		pp_instance_free(&inst[h]);
	}
	free(cs.syns);
	pp_correlate_free(c);
	return ret;
}

/* ---- --turns: every connection of the port, exchanges from turn-taking ---- */

/* Every event of both logs, in file order: turns.c sorts out the connections. */
struct plain_source {
	struct pp_eventlog_reader *r;
};

static int plain_next(void *ctx, struct pp_event *ev)
{
	return pp_eventlog_next(((struct plain_source *)ctx)->r, ev);
}

static int analyze_turns(const struct options *o)
{
	struct pp_turns_config cfg = { 0 };
	struct pp_summary_info info = { 0 };
	struct pp_service_report *report = NULL;
	struct client_scan cs = { 0 };
	struct plain_source src[2] = { 0 };
	struct pp_eventlog_reader *readers[2] = { NULL, NULL };
	struct pp_turns *t = NULL;
	const struct pp_turns_stats *st;
	char what[512];
	int err, ret = 1;

	if (o->port) {
		cfg.server_port = o->port;
	} else {
		if ((err = scan_client(o, &cs)) < 0)
			goto out;
		if (!cs.have_flow) {
			pp_log_error("%s: no send with payload: give --port", o->client_log);
			goto out;
		}
		cfg.server_port = cs.flow.server_port;
	}
	if ((err = pp_service_report_open(&report, o->output)) < 0) {
		pp_log_error("%s: %s", o->output, strerror(-err));
		goto out;
	}
	cfg.on_row = pp_service_report_row;
	cfg.on_conn = pp_service_report_conn;
	cfg.ctx = report;
	if ((err = pp_turns_new(&t, &cfg)) < 0) {
		pp_log_error("%s", strerror(-err));
		goto out;
	}
	if (open_log(&readers[PP_CLIENT], o->client_log) < 0 || open_log(&readers[PP_SERVER], o->server_log) < 0)
		goto out;
	for (int h = 0; h < 2; h++)
		src[h].r = readers[h];
	if ((err = pp_turns_run(t, plain_next, &src[PP_CLIENT], plain_next, &src[PP_SERVER])) < 0) {
		pp_log_error("correlating: %s", strerror(-err));
		goto out;
	}
	if ((err = pp_service_report_commit(report)) < 0) {
		pp_log_error("%s: %s", o->output, strerror(-err));
		goto out;
	}
	st = pp_turns_stats(t);
	pp_service_report_add_malformed(report, pp_eventlog_bad_rows(readers[0]) +
					pp_eventlog_bad_rows(readers[1]));
	snprintf(what, sizeof(what), "turns of port %" PRIu16 ": %" PRIu64 " exchanges on %" PRIu64
		 " connection%s (offline from %s and %s; event logs carry no loss counters)",
		 cfg.server_port, st->rows, st->connections - st->pipelined,
		 st->connections - st->pipelined == 1 ? "" : "s", o->client_log, o->server_log);
	info.what = what;
	info.traced = st->events_in[PP_CLIENT] > 0;
	info.server_events = st->events_in[PP_SERVER] > 0;
	info.capture = st->missing[C_WIRE_TX] < st->rows || st->missing[S_WIRE_RX] < st->rows;
	if ((err = pp_service_report_print(report, st, &info, o->verbose, stdout)) < 0) {
		pp_log_error("printing the summary: %s", strerror(-err));
		goto out;
	}
	if (o->summary_json && (err = pp_service_report_json(report, st, &info, o->summary_json)) < 0) {
		pp_log_error("%s: %s", o->summary_json, strerror(-err));
		goto out;
	}
	ret = 0;
out:
	pp_service_report_free(report);
	for (int h = 0; h < 2; h++)
		if (readers[h])
			pp_eventlog_close(readers[h]);
	free(cs.syns);
	pp_turns_free(t);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o;
	bool done = false;
	int status;

	pp_log_init(PROG);
	status = parse_args(argc, argv, &o, &done);
	if (done)
		return status;
	return o.turns ? analyze_turns(&o) : analyze(&o);
}

// SPDX-License-Identifier: MIT
/* Times the correlator on 1,000,000 synthetic exchanges (5 points per host per message, per-CPU
 * style reordering, pure ACKs, a few losses and retransmits, a seq wrap) and reports wall time
 * and peak RSS. Events are generated on the fly, so the RSS is the correlator's own. --turns
 * times the turn correlator (analyze/turns.c, what services use) on the same events instead. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "analyze/correlate.h"
#include "analyze/turns.h"

#define SIZE          1024u
#define PERIOD_NS     40000u          /* one exchange every 40 us */
#define SERVER_OFF_NS 5000000000ull   /* the server's clock, 5 s ahead */
#define BATCH         16              /* events per perf "batch" that two CPUs reorder */
#define LOSS_EVERY    5000            /* a server rx lost */
#define RETRANS_EVERY 10000           /* a client xmit sent twice */
#define ACK_EVERY     3               /* a pure ACK from the client */

static const uint32_t ping_seq0 = 0xffffffffu - 100 * SIZE; /* wraps after 100 exchanges */
static const uint32_t pong_seq0 = 123456789u;

struct host_gen {
	int host;
	uint64_t n, next_ex;           /* exchanges to make, the next one */
	struct pp_event buf[2 * BATCH + 16];
	size_t nbuf, at;
	uint64_t rng;
	uint64_t made;
};

static struct pp_event templ[2]; /* [0] client -> server, [1] server -> client */

static void make_templates(void)
{
	for (int k = 0; k < 2; k++) {
		struct pp_event *ev = &templ[k];

		ev->family = PP_AF_INET;
		ev->saddr[0] = ev->daddr[0] = 198;
		ev->saddr[1] = ev->daddr[1] = 18;
		ev->saddr[3] = k ? 2 : 1;
		ev->daddr[3] = k ? 1 : 2;
		ev->sport = k ? 12345 : 40000;
		ev->dport = k ? 40000 : 12345;
	}
}

static inline struct pp_event ev_of(int point, uint64_t ts, bool to_server, uint32_t seq, uint32_t len)
{
	struct pp_event ev = templ[!to_server];

	ev.point = (uint8_t)point;
	ev.ts_ns = ts;
	ev.seq = seq;
	ev.len = len;
	return ev;
}

/* Exchange i's events on one host, in time order. */
static size_t make_exchange(int host, uint64_t i, struct pp_event *out)
{
	uint64_t t = 1000000000ull + i * PERIOD_NS;
	uint32_t ping = ping_seq0 + (uint32_t)i * SIZE, pong = pong_seq0 + (uint32_t)i * SIZE;
	size_t n = 0;

	if (host == PP_CLIENT) {
		out[n++] = ev_of(PP_SEND, t, true, ping, SIZE);
		out[n++] = ev_of(PP_XMIT, t + 2000, true, ping, SIZE);
		if (i % RETRANS_EVERY == 7)
			out[n++] = ev_of(PP_XMIT, t + 6000, true, ping, SIZE);
		out[n++] = ev_of(PP_RX, t + 20000, false, pong, SIZE);
		out[n++] = ev_of(PP_TCP, t + 20300, false, pong, SIZE);
		out[n++] = ev_of(PP_RECV, t + 22000, false, pong, SIZE);
		if (i % ACK_EVERY == 0)
			out[n++] = ev_of(PP_XMIT, t + 22500, true, ping + SIZE, 0);
	} else {
		t += SERVER_OFF_NS;
		if (i % LOSS_EVERY != 11)
			out[n++] = ev_of(PP_RX, t + 9000, true, ping, SIZE);
		out[n++] = ev_of(PP_TCP, t + 9300, true, ping, SIZE);
		out[n++] = ev_of(PP_RECV, t + 10000, true, ping, SIZE);
		out[n++] = ev_of(PP_SEND, t + 12000, false, pong, SIZE);
		out[n++] = ev_of(PP_XMIT, t + 13000, false, pong, SIZE);
	}
	return n;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Refills buf with about BATCH events, as two CPUs' buffers drained one after the other. */
static void refill(struct host_gen *g)
{
	struct pp_event tmp[2 * BATCH + 16];
	uint8_t cpu[2 * BATCH + 16];
	size_t n = 0, k = 0;

	while (n < BATCH && g->next_ex < g->n)
		n += make_exchange(g->host, g->next_ex++, tmp + n);
	for (size_t i = 0; i < n; i++)
		cpu[i] = rnd(&g->rng) & 1;
	for (int c = 0; c < 2; c++)
		for (size_t i = 0; i < n; i++)
			if (cpu[i] == c)
				g->buf[k++] = tmp[i];
	g->nbuf = n;
	g->at = 0;
}

static int gen_next(void *ctx, struct pp_event *ev)
{
	struct host_gen *g = ctx;

	if (g->at == g->nbuf)
		refill(g);
	if (g->at == g->nbuf)
		return 0;
	*ev = g->buf[g->at++];
	g->made++;
	return 1;
}

struct tally {
	uint64_t rows, complete, identity_bad;
	int64_t rtt_sum;
};

static int on_row(void *ctx, struct pp_row *row, const struct pp_split *sp)
{
	struct tally *t = ctx;

	t->rows++;
	if (row->flags & PP_ROW_INCOMPLETE)
		return 0;
	t->complete++;
	t->rtt_sum += sp->ns[PP_RTT];
	if (sp->ns[PP_RTT] != sp->ns[PP_CLIENT_STACK] + sp->ns[PP_SERVER_STACK] + sp->ns[PP_SERVER_APP] +
			      sp->ns[PP_NETWORK])
		t->identity_bad++;
	return 0;
}

static int on_turn(void *ctx, const struct pp_turn *turn)
{
	return on_row(ctx, turn->row, turn->split);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: bench_correlate [--exchanges N] [--turns]\n"
		   "Correlates N synthetic exchanges (default 1000000) and prints wall time and peak RSS;\n"
		   "--turns: with the turn correlator (any service's), not the fixed-size one.\n"
		   "Goal: 1,000,000 exchanges in < 2 s and < 200 MB. Exit 1 if a row comes out wrong.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "exchanges", required_argument, NULL, 'n' },
		{ "turns", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct host_gen client = { .host = PP_CLIENT, .rng = 0x1234567 }, server = { .host = PP_SERVER, .rng = 0x7654321 };
	struct pp_correlate_config cfg = { 0 };
	struct tally tally = { 0 };
	const struct pp_correlate_stats *st = NULL;
	struct pp_correlator *c = NULL;
	struct pp_turns *tu = NULL;
	struct pp_turns_config tcfg = { .server_port = 12345, .on_row = on_turn };
	const struct pp_turns_stats *tst = NULL;
	bool turns = false;
	struct pp_event ev;
	struct rusage ru, ru0;
	double t0, gen_s, corr_s, cpu_s, load[1];
	uint64_t n = 1000000, expect_incomplete;
	char *end;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "n:th", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			turns = true;
			break;
		case 'n':
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (errno || *end || n < 1 || n > 100000000) {
				fprintf(stderr, "bench_correlate: --exchanges must be 1..100000000 (got %s)\n", optarg);
				return 2;
			}
			break;
		default: /* -h, --help asked for the usage; anything else is a mistake */
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	make_templates();
	/* the generator alone, to tell its share apart */
	client.n = server.n = n;
	t0 = seconds();
	while (gen_next(&client, &ev) > 0 || gen_next(&server, &ev) > 0)
		;
	gen_s = seconds() - t0;
	client = (struct host_gen){ .host = PP_CLIENT, .n = n, .rng = 0x1234567 };
	server = (struct host_gen){ .host = PP_SERVER, .n = n, .rng = 0x7654321 };

	cfg.size = SIZE;
	cfg.count = n;
	cfg.have_flow = true;
	pp_flow_key_set(&cfg.flow, "198.18.0.1", 40000, "198.18.0.2", 12345);
	cfg.have_ping_seq = cfg.have_pong_seq = true;
	cfg.ping_seq = ping_seq0;
	cfg.pong_seq = pong_seq0;
	cfg.on_row = on_row;
	cfg.ctx = &tally;
	tcfg.ctx = &tally;
	if ((err = turns ? pp_turns_new(&tu, &tcfg) : pp_correlate_new(&c, &cfg)) < 0) {
		fprintf(stderr, "bench_correlate: %s\n", strerror(-err));
		return 1;
	}
	getrusage(RUSAGE_SELF, &ru0);
	t0 = seconds();
	err = turns ? pp_turns_run(tu, gen_next, &client, gen_next, &server)
		    : pp_correlate_run(c, gen_next, &client, gen_next, &server);
	corr_s = seconds() - t0;
	if (err < 0) {
		fprintf(stderr, "bench_correlate: correlation failed: %s\n", strerror(-err));
		return 1;
	}
	getrusage(RUSAGE_SELF, &ru);
	cpu_s = (double)(ru.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		(double)(ru.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	printf("bench_correlate%s: %llu exchanges, %llu events in %.3f s wall, %.3f s CPU (generator alone "
	       "%.3f s wall, included); peak RSS %.1f MB\n", turns ? " --turns" : "",
	       (unsigned long long)n, (unsigned long long)(client.made + server.made), corr_s, cpu_s, gen_s,
	       ru.ru_maxrss / 1024.0);
	if (turns) {
		tst = pp_turns_stats(tu);
		printf("  rows %llu complete %llu incomplete %llu retransmitted %llu; held at most %llu events\n",
		       (unsigned long long)tst->rows, (unsigned long long)tst->complete,
		       (unsigned long long)tst->incomplete, (unsigned long long)tst->retransmitted,
		       (unsigned long long)tst->held_high_water);
	} else {
		st = pp_correlate_stats(c);
		printf("  rows %llu complete %llu incomplete %llu retransmitted %llu; acks ignored %llu; "
		       "window high water %llu exchanges, %llu events held\n",
		       (unsigned long long)st->rows, (unsigned long long)st->complete,
		       (unsigned long long)st->incomplete, (unsigned long long)st->retransmitted,
		       (unsigned long long)st->events_no_payload, (unsigned long long)st->window_high_water,
		       (unsigned long long)st->held_high_water);
	}
	/* judged on CPU time: on a shared machine wall time measures the other tenants too */
	if (getloadavg(load, 1) != 1)
		load[0] = -1;
	printf("  goal (1e6 exchanges < 2 s, < 200 MB), on CPU time: %s (load average %.2f)\n",
	       n == 1000000 ? (cpu_s < 2.0 && ru.ru_maxrss < 200 * 1024 ? "met" : "MISSED") : "n/a", load[0]);
	expect_incomplete = n / LOSS_EVERY + (n % LOSS_EVERY > 11);
	if (tally.rows != n || tally.identity_bad ||
	    (turns ? tst->incomplete : st->incomplete) != expect_incomplete ||
	    (turns ? tst->retransmitted : st->retransmitted) != n / RETRANS_EVERY + (n % RETRANS_EVERY > 7)) {
		fprintf(stderr, "bench_correlate: wrong rows (rows %llu, identity broken %llu, incomplete %llu want %llu)\n",
			(unsigned long long)tally.rows, (unsigned long long)tally.identity_bad,
			(unsigned long long)(turns ? tst->incomplete : st->incomplete),
			(unsigned long long)expect_incomplete);
		pp_correlate_free(c);
		pp_turns_free(tu);
		return 1;
	}
	pp_correlate_free(c);
	pp_turns_free(tu);
	return 0;
}

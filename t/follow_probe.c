// SPDX-License-Identifier: MIT
/* Test helper: follows one connection on an agent's control port (collect/fetch.h, follow mode),
 * or with --all-ports every connection of the client address to the server's port
 * (PP_FETCH_ALL_PORTS), until SIGINT/SIGTERM, then sends STOP and reads to END. Prints, on
 * stdout, one line per point (point=NAME events=N bytes_to_server=B bytes_to_client=B) and a
 * last line "end events=N lost=N pcap_drops=N dropped=N max_gap_ms=N ports=N foreign=N" (ports:
 * distinct client ports among the events; foreign: events of another connection the agent sent,
 * dropped by the client end); exit 0 when END arrived. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect/eventlog.h"
#include "collect/fetch.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

struct tally {
	struct pp_flow_key flow;
	uint64_t events[PP_POINT_MAX], to_server[PP_POINT_MAX], to_client[PP_POINT_MAX];
	uint8_t port_seen[65536 / 8];
	unsigned ports;
};

static int count(void *ctx, const struct pp_event *ev)
{
	struct tally *t = ctx;

	bool to_server = pp_flow_dir(&t->flow, ev) == PP_DIR_TO_SERVER;
	uint16_t port = to_server ? ev->sport : ev->dport;

	t->events[ev->point]++;
	if (to_server)
		t->to_server[ev->point] += ev->len;
	else
		t->to_client[ev->point] += ev->len;
	if (!(t->port_seen[port / 8] & (1u << (port % 8)))) {
		t->port_seen[port / 8] |= (uint8_t)(1u << (port % 8));
		t->ports++;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: follow_probe --agent ADDR --control-port PORT --client ADDR:PORT --server ADDR:PORT\n"
		"                    [--silent-ms MS] [--ready FILE]\n"
		"       follow_probe --all-ports --client ADDR ... (the other options as above)\n"
		"Follows the connection client -> server on the agent until SIGINT/SIGTERM, then STOP.\n"
		"  --all-ports      every connection from the client ADDR, any port, to the server\n"
		"  --silent-ms MS   give up when the agent sent nothing, not even a heartbeat, this long\n"
		"                   (default 3000)\n"
		"  --ready FILE     create FILE once following (for scripts)\n");
}

/* "198.18.0.1:40000" -> address text and port */
static int split(char *arg, uint16_t *port)
{
	char *colon = strrchr(arg, ':');
	long p;

	if (!colon)
		return -EINVAL;
	*colon = '\0';
	p = strtol(colon + 1, NULL, 10);
	if (p <= 0 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "agent", required_argument, NULL, 'a' }, { "control-port", required_argument, NULL, 'p' },
		{ "client", required_argument, NULL, 'c' }, { "server", required_argument, NULL, 's' },
		{ "silent-ms", required_argument, NULL, 'm' }, { "ready", required_argument, NULL, 'r' },
		{ "all-ports", no_argument, NULL, 'A' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *agent = NULL, *ready = NULL;
	char *client = NULL, *server = NULL;
	uint16_t cport = 0, sport = 0, port = 0;
	long silent_ms = 3000;
	struct sigaction sa = { .sa_handler = on_signal };
	static struct tally t;
	struct pp_fetch_req req = { 0 };
	const struct pp_fetch_stats *st;
	struct pp_fetch *f;
	uint64_t max_gap = 0, last;
	bool stopped = false, all_ports = false;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a': agent = optarg; break;
		case 'p': port = (uint16_t)atoi(optarg); break;
		case 'c': client = optarg; break;
		case 's': server = optarg; break;
		case 'm': silent_ms = atol(optarg); break;
		case 'r': ready = optarg; break;
		case 'A': all_ports = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* --all-ports: the client is an address alone; parsed with a stand-in port, then the
	 * request names every port (the helper a real caller would use) */
	if (!agent || !port || !client || !server || (!all_ports && split(client, &cport) < 0) ||
	    split(server, &sport) < 0 ||
	    pp_flow_key_set(&req.flow, client, all_ports ? 1 : cport, server, sport) < 0 ||
	    (all_ports && pp_fetch_req_all_ports(&req, req.flow.family, req.flow.client_addr,
						 req.flow.server_addr, sport) < 0)) {
		usage(stderr);
		return 2;
	}
	t.flow = req.flow;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((r = pp_control_follow_open(&f, agent, port, &req, 5000)) < 0) {
		fprintf(stderr, "follow_probe: cannot follow: %s\n", strerror(-r));
		return 1;
	}
	if (ready) {
		FILE *rf = fopen(ready, "w");

		if (rf)
			fclose(rf);
	}
	last = pp_control_follow_last_frame_ns(f);
	for (;;) {
		struct pollfd p = { .fd = pp_control_follow_fd(f), .events = POLLIN };
		uint64_t at;

		poll(&p, 1, 100);
		r = pp_control_follow_read(f, count, &t);
		at = pp_control_follow_last_frame_ns(f);
		if (at - last > max_gap)
			max_gap = at - last;
		last = at;
		if (r != 0)
			break;
		if (stop && !stopped) {
			stopped = true;
			if ((r = pp_control_follow_stop(f)) < 0)
				break;
		}
		if ((now_ns() - last) / 1000000 > (uint64_t)silent_ms) {
			r = -ETIMEDOUT;
			break;
		}
	}
	st = pp_control_fetch_stats(f);
	for (int i = PP_SEND; i < PP_POINT_MAX; i++)
		printf("point=%s events=%llu bytes_to_server=%llu bytes_to_client=%llu\n", pp_point_name(i),
		       (unsigned long long)t.events[i], (unsigned long long)t.to_server[i],
		       (unsigned long long)t.to_client[i]);
	printf("end events=%llu lost=%llu pcap_drops=%llu dropped=%llu max_gap_ms=%llu ports=%u foreign=%llu\n",
	       (unsigned long long)st->events, (unsigned long long)st->agent.lost_samples,
	       (unsigned long long)st->agent.pcap_drops, (unsigned long long)st->agent.dropped,
	       (unsigned long long)(max_gap / 1000000), t.ports, (unsigned long long)st->foreign);
	if (r != 1)
		fprintf(stderr, "follow_probe: %s%s%s\n", strerror(-r), st->reason[0] ? ": " : "",
			st->reason[0] ? st->reason : st->error_text);
	pp_control_fetch_close(f);
	return r == 1 ? 0 : 1;
}

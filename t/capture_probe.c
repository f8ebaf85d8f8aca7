// SPDX-License-Identifier: MIT
/* Test and debug helper: runs the capture module and prints its events, one CSV line each
 * (point,ts_ns,family,saddr,sport,daddr,dport,seq,len,flags), then the capture report on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect/capture.h"

static volatile sig_atomic_t stop; /* the signal that asked us to stop; 0 while none */

static void on_signal(int sig)
{
	stop = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: capture_probe [options]\n"
		"Captures the measured flow and prints wire_tx/wire_rx events as CSV on stdout.\n"
		"  --peer ADDR          the other host (numeric); picks the interface routing to it\n"
		"  --port PORT          a port of the flow (default: any)\n"
		"  --iface NAME         capture here instead of the routed interface\n"
		"  --tstamp-type NAME   pcap time stamp type (host, adapter, ...)\n"
		"  --list-tstamp-types  print what the interface offers and exit\n"
		"  --pcap-out FILE      also save the frames (pcap, ns)\n"
		"  --keep-acks          print segments without payload too\n"
		"  --no-early-rx-stamp  do not hold the SO_TIMESTAMPNS socket\n"
		"  --batch-ms MS        let frames wait in the ring up to MS (default 0: immediate)\n"
		"  --duration SEC       stop after this long (default 10; SIGINT/SIGTERM stop too)\n"
		"  --ready FILE         create FILE once capturing (for scripts)\n");
}

static void print_event(void *ctx, const struct pp_event *ev)
{
	int af = ev->family == PP_AF_INET6 ? AF_INET6 : AF_INET;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	(void)ctx;
	inet_ntop(af, ev->saddr, src, sizeof(src));
	inet_ntop(af, ev->daddr, dst, sizeof(dst));
	printf("%s,%llu,%d,%s,%u,%s,%u,%u,%u,0x%02x\n", ev->point == PP_WIRE_TX ? "wire_tx" : "wire_rx",
	       (unsigned long long)ev->ts_ns, ev->family, src, ev->sport, dst, ev->dport, ev->seq,
	       ev->len, ev->tcp_flags);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "peer", required_argument, 0, 'a' },  { "port", required_argument, 0, 'p' },
		{ "iface", required_argument, 0, 'i' }, { "tstamp-type", required_argument, 0, 't' },
		{ "list-tstamp-types", no_argument, 0, 'l' }, { "pcap-out", required_argument, 0, 'w' },
		{ "keep-acks", no_argument, 0, 'k' },   { "no-early-rx-stamp", no_argument, 0, 'n' },
		{ "duration", required_argument, 0, 'd' }, { "ready", required_argument, 0, 'r' },
		{ "batch-ms", required_argument, 0, 'b' },
		{ "help", no_argument, 0, 'h' },        { 0 }
	};
	struct pp_capture_opts opts = { 0 };
	struct pp_capture *cap = NULL;
	struct pp_err err = { 0 };
	char report[PP_CAPTURE_REPORT_MAX];
	const char *ready = NULL;
	double duration_s = 10;
	bool list = false;
	struct timespec start, now;
	int opt, ret;
	char *end;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a': opts.peer = optarg; break;
		case 'p': {
			long port = strtol(optarg, &end, 10);

			if (*end || port < 1 || port > 65535) {
				fprintf(stderr, "capture_probe: --port must be 1..65535 (got %s)\n", optarg);
				return 2;
			}
			opts.port = (uint16_t)port;
			break;
		}
		case 'i': opts.iface = optarg; break;
		case 't': opts.tstamp_type = optarg; break;
		case 'l': list = true; break;
		case 'w': opts.pcap_out = optarg; break;
		case 'k': opts.keep_acks = true; break;
		case 'n': opts.no_early_rx_stamp = true; break;
		case 'r': ready = optarg; break;
		case 'b':
			opts.batch_ms = (int)strtol(optarg, &end, 10);
			if (*end || opts.batch_ms < 0 || opts.batch_ms > 10000) {
				fprintf(stderr, "capture_probe: --batch-ms must be 0..10000 (got %s)\n", optarg);
				return 2;
			}
			break;
		case 'd':
			duration_s = strtod(optarg, &end);
			if (*end || duration_s <= 0 || duration_s > 3600) {
				fprintf(stderr, "capture_probe: --duration must be 0..3600 s (got %s)\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (list) {
		char iface[64], types[256];

		if (!opts.iface && opts.peer &&
		    pp_capture_route_iface(opts.peer, iface, sizeof(iface), &err) == 0)
			opts.iface = iface;
		if (!opts.iface) {
			fprintf(stderr, "capture_probe: --list-tstamp-types needs --iface or --peer\n");
			return 2;
		}
		if (pp_capture_tstamp_types(opts.iface, types, sizeof(types), &err)) {
			fprintf(stderr, "capture_probe: %s\n", pp_err_text(&err));
			return 1;
		}
		printf("%s: %s\n", opts.iface, types);
		return 0;
	}
	ret = pp_capture_open(&cap, &opts, &err);
	if (ret) {
		fprintf(stderr, "capture_probe: %s\n", pp_err_text(&err));
		return ret == -EINVAL ? 2 : 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "capture_probe: %s, filter \"%s\"\n", pp_capture_iface(cap),
		pp_capture_filter(cap));
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f)
			fclose(f);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop) {
		struct pollfd pfd = { .fd = pp_capture_fd(cap), .events = POLLIN };

		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >= duration_s)
			break;
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			break;
		if (pp_capture_dispatch(cap, print_event, NULL, &err) < 0) {
			fprintf(stderr, "capture_probe: capture: %s\n", pp_err_text(&err));
			ret = 1;
			break;
		}
	}
	if (pp_capture_finish(cap, print_event, NULL, &err)) {
		fprintf(stderr, "capture_probe: capture: %s\n", pp_err_text(&err));
		ret = 1;
	}
	fflush(stdout);
	pp_capture_report(cap, report, sizeof(report));
	fputs(report, stderr);
	pp_capture_close(cap);
	return ret;
}

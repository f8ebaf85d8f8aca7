/* pingpong-client: connects, runs the warm-up and the recorded exchanges, writes results.csv
 * and prints the summary. Every failure is one line on stderr; exit 0 ok, 1 runtime, 2 usage. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_opts.h"
#include "net.h"
#include "pingloop.h"
#include "results.h"
#include "summary.h"

#define PROG "pingpong-client"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* No SA_RESTART: a signal ends a sleep between exchanges instead of waiting it out. */
static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

struct run {
	struct pp_client_opts opts;
	struct pp_addr server, local;
	char server_text[PP_ADDRSTRLEN];
	int fd;
	int64_t *rtt_ns;          /* opts.count samples */
	uint64_t recorded;        /* exchanges completed and recorded */
	int end_err;              /* why the recorded run ended early, 0 = it did not */
};

static int connect_server(struct run *r)
{
	struct pp_addr addrs[PP_MAX_ADDRS];
	socklen_t len = sizeof(r->local.ss);
	size_t n = 0;
	int rc;

	rc = pp_resolve(r->opts.addr, r->opts.port, false, addrs, PP_MAX_ADDRS, &n);
	if (rc == -ENOENT) {
		fprintf(stderr, PROG ": unknown host '%s'\n", r->opts.addr);
		return rc;
	}
	if (rc) {
		fprintf(stderr, PROG ": cannot resolve '%s': %s\n", r->opts.addr,
			rc == -EAGAIN ? "temporary resolver failure" : strerror(-rc));
		return rc;
	}
	rc = pp_connect(addrs, n, PP_CLIENT_HELLO_TIMEOUT_MS, &r->server);
	if (rc < 0) {
		pp_addr_format(&addrs[n - 1], r->server_text, sizeof(r->server_text));
		fprintf(stderr, PROG ": cannot connect to %s: %s\n", r->server_text,
			rc == -ETIMEDOUT ? "no answer within 5 s" : strerror(-rc));
		return rc;
	}
	r->fd = rc;
	pp_addr_format(&r->server, r->server_text, sizeof(r->server_text));
	r->local.len = len;
	if (getsockname(r->fd, (struct sockaddr *)&r->local.ss, &len) == 0)
		r->local.len = len;
	return 0;
}

static int handshake(struct run *r)
{
	struct pp_hs_reply reply;
	int rc;

	pp_set_timeouts(r->fd, PP_CLIENT_HELLO_TIMEOUT_MS, PP_CLIENT_HELLO_TIMEOUT_MS);
	rc = pp_client_hello(r->fd, r->opts.size, r->opts.warmup + r->opts.count, &reply);
	if (rc == -EAGAIN) {
		fprintf(stderr, PROG ": %s did not answer the handshake within 5 s "
			"(is it a pingpong-server?)\n", r->server_text);
		return rc;
	}
	if (rc == -EPROTO) {
		fprintf(stderr, PROG ": %s answered the handshake with something else "
			"(is it a pingpong-server?)\n", r->server_text);
		return rc;
	}
	if (rc) {
		fprintf(stderr, PROG ": handshake with %s failed: %s\n", r->server_text,
			rc == -EPIPE ? "server closed the connection" : strerror(-rc));
		return rc;
	}
	if (reply.status != PP_HS_OK) {
		fprintf(stderr, PROG ": %s refused: %s%s%s%s\n", r->server_text,
			pp_hs_status_name(reply.status), reply.reason[0] ? " (" : "", reply.reason,
			reply.reason[0] ? ")" : "");
		return -ECONNREFUSED;
	}
	/* No receive timeout in the loop: a watchdog thread does that job (watchdog.h). */
	return pp_set_timeouts(r->fd, 0, PP_CLIENT_PONG_TIMEOUT_MS);
}

static const char *loop_error(int rc)
{
	switch (rc) {
	case -EPIPE:
	case -ECONNRESET:
		return "the server closed the connection";
	case -EAGAIN:
	case -ETIMEDOUT:
		return "no pong for 10 s";
	case -EBADMSG:
		return "a pong was not the echo of its ping";
	case -EINTR:
		return "interrupted";
	default:
		return strerror(-rc);
	}
}

static int exchange(struct run *r)
{
	struct pp_pingloop loop;
	struct pp_watch watch;
	struct pp_watchdog dog;
	uint64_t done = 0;
	int rc;

	rc = pp_pingloop_init(&loop, r->fd, r->opts.size);
	if (rc) {
		fprintf(stderr, PROG ": cannot allocate 2 x %u bytes\n", r->opts.size);
		return rc;
	}
	loop.interval_ns = r->opts.interval_us * 1000;
	pp_watch_init(&watch);
	/* The pause between two exchanges is not the server's fault. */
	rc = pp_watchdog_start(&dog, &watch, r->fd,
			       (uint64_t)PP_CLIENT_PONG_TIMEOUT_MS * 1000000 + loop.interval_ns);
	if (rc) {
		fprintf(stderr, PROG ": cannot start the watchdog thread: %s\n", strerror(-rc));
		pp_pingloop_free(&loop);
		return rc;
	}
	loop.watch = &watch;
	loop.stop = &stop_signal;
	loop.progress = isatty(STDERR_FILENO);
	loop.progress_total = r->opts.warmup + r->opts.count;
	rc = pp_pingloop_run(&loop, r->opts.warmup, NULL, &done);
	if (rc) {
		pp_watchdog_stop(&dog);
		if (loop.progress)
			fputc('\n', stderr);
		fprintf(stderr, PROG ": %s during the warm-up (%llu of %llu); nothing recorded\n",
			loop_error(rc), (unsigned long long)done,
			(unsigned long long)r->opts.warmup);
		pp_pingloop_free(&loop);
		return rc;
	}
	loop.progress_done = done;
	rc = pp_pingloop_run(&loop, r->opts.count, r->rtt_ns, &r->recorded);
	pp_watchdog_stop(&dog);
	if (loop.progress)
		fputc('\n', stderr);
	pp_pingloop_free(&loop);
	if (rc && r->recorded == 0) {
		fprintf(stderr, PROG ": %s before the first recorded exchange; nothing recorded\n",
			loop_error(rc));
		return rc;
	}
	r->end_err = rc;
	return 0;
}

static int write_results(struct run *r, struct pp_results *csv, struct pp_summary *sum)
{
	for (uint64_t i = 0; i < r->recorded; i++) {
		struct pp_row row = { .index = i, .rtt_app_ns = r->rtt_ns[i] };
		int rc = pp_results_write(csv, &row);

		if (!rc)
			rc = pp_summary_add(sum, &row);
		if (rc)
			return rc;
	}
	return 0;
}

static int report(struct run *r, struct pp_results *csv)
{
	struct pp_summary *sum = pp_summary_new();
	char what[512], local[PP_ADDRSTRLEN], partial[160] = "";
	struct pp_summary_info info = { .what = what, .exchanges = r->recorded };
	int rc;

	if (!sum) {
		pp_results_abort(csv);
		return -ENOMEM;
	}
	if (r->end_err)
		snprintf(partial, sizeof(partial), " (PARTIAL: %llu of %llu completed, %s)",
			 (unsigned long long)r->recorded, (unsigned long long)r->opts.count,
			 loop_error(r->end_err));
	snprintf(what, sizeof(what), "%u B x %llu exchanges%s, %s -> %s", r->opts.size,
		 (unsigned long long)r->opts.count, partial,
		 pp_addr_format(&r->local, local, sizeof(local)), r->server_text);
	rc = write_results(r, csv, sum);
	if (rc) {
		pp_results_abort(csv);
		fprintf(stderr, PROG ": cannot write %s: %s\n", r->opts.output, strerror(-rc));
		goto out;
	}
	rc = pp_results_commit(csv);
	if (rc) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", r->opts.output, strerror(-rc));
		goto out;
	}
	rc = pp_summary_print(sum, &info, stdout);
	if (rc)
		fprintf(stderr, PROG ": cannot print the summary: %s\n", strerror(-rc));
	if (!rc && r->opts.summary_json) {
		rc = pp_summary_write_json(sum, &info, r->opts.summary_json);
		if (rc)
			fprintf(stderr, PROG ": cannot write %s: %s\n", r->opts.summary_json,
				strerror(-rc));
	}
out:
	pp_summary_free(sum);
	return rc;
}

static int run(struct run *r)
{
	struct pp_results *csv = NULL;
	int rc;

	/* Created (as a temp file) before the run, so an unwritable path fails in a second,
	 * not after the whole run; it gets its name only at the end. */
	rc = pp_results_open(&csv, r->opts.output);
	if (rc) {
		fprintf(stderr, PROG ": cannot create %s: %s\n", r->opts.output, strerror(-rc));
		return rc;
	}
	r->rtt_ns = malloc(r->opts.count * sizeof(*r->rtt_ns));
	if (!r->rtt_ns) {
		fprintf(stderr, PROG ": cannot allocate %llu samples\n",
			(unsigned long long)r->opts.count);
		pp_results_abort(csv);
		return -ENOMEM;
	}
	/* Touched now: a page fault inside the loop would be measured. */
	memset(r->rtt_ns, 0xff, r->opts.count * sizeof(*r->rtt_ns));
	rc = connect_server(r);
	if (!rc)
		rc = handshake(r);
	if (!rc)
		rc = exchange(r);
	if (r->fd >= 0)
		close(r->fd);
	if (rc) {
		pp_results_abort(csv);
		return rc;
	}
	rc = report(r, csv);
	if (!rc && r->end_err) {
		fprintf(stderr, PROG ": %s after %llu of %llu exchanges; %s holds the %llu "
			"completed (marked PARTIAL in the summary)\n", loop_error(r->end_err),
			(unsigned long long)r->recorded, (unsigned long long)r->opts.count,
			r->opts.output, (unsigned long long)r->recorded);
		rc = r->end_err;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct run r = { .fd = -1 };
	char err[256];
	int rc;

	rc = pp_client_opts_parse(argc, argv, &r.opts, err, sizeof(err));
	if (rc == PP_OPTS_HELP) {
		pp_client_usage(stdout);
		return 0;
	}
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	setup_signals();
	rc = run(&r);
	free(r.rtt_ns);
	return rc ? 1 : 0;
}

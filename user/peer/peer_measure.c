// SPDX-License-Identifier: MIT
/* pingpong-ebpf --peer (peer_measure.h): this host's events and the followed agent's go into
 * turns.c as they come; analyze/service_report.c writes what settles. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peer/handoff.h"
#include "peer/peer_measure.h"
#include "analyze/service_report.h"
#include "analyze/turns.h"
#include "collect/fetch.h"
#include "common/atomic_file.h"
#include "common/log.h"
#include "common/net.h"


#define PEER_TIMEOUT_MS         5000  /* connect, and the whole wait for the agent's END */
#define PEER_SILENCE_MS         5000  /* no frame (heartbeats come every second): gone */
#define PEER_FINAL_SILENCE_MS   2500  /* after STOP */
#define TAG_END_SERVER          2     /* in the handoff: the agent's stream is over */

struct pp_peer {
	struct pp_peer_opts opts;
	char addr[PP_ADDRSTRLEN];       /* numeric */
	char name[PP_ADDRSTRLEN + 8];   /* "addr:port" for messages */
	uint16_t control_port;
	struct pp_fetch_req req;
	struct pp_fetch *agent;         /* NULL: none, or its stream is over */
	bool agent_seen;                /* an agent answered at the start */
	bool agent_ended;               /* its END arrived */
	uint64_t agent_events;
	struct pp_end_counts end;       /* from END */
	uint64_t agent_foreign;         /* sent but of no connection of ours (fetch.c filters) */
	struct pp_turns *turns;         /* owned by the handoff's thread until pp_handoff_end */
	struct pp_handoff *handoff;     /* every event goes through it to the turns */
	struct pp_service_report *report;
	FILE *copy;                     /* results.csv for the plots (--plot), unnamed */
	struct pp_peer_local local;
	int err;                        /* the correlation's failure (-errno), after the handoff */
	bool finished;
};

int pp_peer_parse(const char *peer, uint16_t default_port, char *addr, size_t addr_len,
		  uint16_t *port, struct pp_err *e)
{
	const char *colon = strrchr(peer, ':'), *host = peer;
	size_t n = strlen(peer);

	*port = default_port;
	if (peer[0] == '[') {              /* [v6]:port or [v6] */
		const char *close = strchr(peer, ']');

		if (!close || (close[1] && close[1] != ':'))
			return pp_err_set(e, -EINVAL, "--peer %s: expected [ADDRESS]:PORT", peer);
		host = peer + 1;
		n = (size_t)(close - host);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else if (colon && strchr(peer, ':') != colon) {
		colon = NULL;                  /* a bare IPv6 address: no port */
	} else if (colon) {
		n = (size_t)(colon - peer);
	}
	if (!n || n >= addr_len)
		return pp_err_set(e, -EINVAL, "--peer %s: no address", peer);
	if (colon && pp_parse_port(colon + 1, port) < 0)
		return pp_err_set(e, -EINVAL, "--peer %s: the control port must be 1..65535", peer);
	memcpy(addr, host, n);
	addr[n] = '\0';
	return 0;
}

/* The address this host's connections to the peer leave from: the route's choice, which a
 * UDP socket's connect makes without sending anything. */
static int local_addr_for(const struct pp_addr *peer, struct sockaddr_storage *local)
{
	socklen_t len = sizeof(*local);
	int fd = socket(peer->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&peer->ss, peer->len) < 0 ||
	    getsockname(fd, (struct sockaddr *)local, &len) < 0)
		err = -errno;
	close(fd);
	return err;
}

static void addr_bytes(const struct sockaddr_storage *ss, uint8_t out[16])
{
	memset(out, 0, 16);
	if (ss->ss_family == AF_INET)
		memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

/* On the handoff's thread: every event into the turns, in the order the loop read them. */
static int correlate(void *ctx, uint8_t tag, const struct pp_event *ev)
{
	struct pp_peer *p = ctx;

	if (tag == TAG_END_SERVER)
		return pp_turns_end_host(p->turns, PP_SERVER);
	return pp_turns_push(p->turns, tag == PP_SERVER ? PP_SERVER : PP_CLIENT, ev);
}

static int on_server_event(void *ctx, const struct pp_event *ev)
{
	struct pp_peer *p = ctx;

	p->agent_events++;
	pp_handoff_put(p->handoff, PP_SERVER, ev);   /* a refusal is counted there */
	return 0;
}

void pp_peer_local_event(void *ctx, const struct pp_event *ev)
{
	struct pp_peer *p = ctx;

	if (!p->finished)
		pp_handoff_put(p->handoff, PP_CLIENT, ev);
}

static void server_over(struct pp_peer *p)
{
	static const struct pp_event none;

	pp_handoff_put(p->handoff, TAG_END_SERVER, &none);
}

/* The agent's stream is over (code 0: its END): one line unless it ended as asked; the rows
 * from here on lack the server's points, which the turns are told. */
static void agent_over(struct pp_peer *p, int code)
{
	const struct pp_fetch_stats *fs = pp_control_fetch_stats(p->agent);

	p->agent_foreign = fs->foreign;
	if (!code) {
		p->agent_ended = true;
		p->end = fs->agent;
	} else if (code == -ETIMEDOUT) {
		pp_log_warn("the agent at %s went silent after %" PRIu64 " events: later rows lack "
			    "the server's points", p->name, p->agent_events);
	} else if (code == -EINTR) {
		pp_log_warn("interrupted while the agent at %s sent its last events", p->name);
	} else if (code == -EREMOTEIO) {
		pp_log_warn("the agent at %s answered: %s", p->name,
			    fs->error_text[0] ? fs->error_text : "an error");
	} else {
		pp_log_warn("the agent at %s went away after %" PRIu64 " events (%s): later rows "
			    "lack the server's points", p->name, p->agent_events,
			    fs->reason[0] ? fs->reason : strerror(-code));
	}
	pp_control_fetch_close(p->agent);
	p->agent = NULL;
	server_over(p);
}

int pp_peer_open(struct pp_peer **out, const struct pp_peer_opts *o, struct pp_err *e)
{
	struct pp_turns_config cfg = { .server_port = o->service_port,
				       .reorder_ns = PP_PEER_REORDER_NS, .hold_max = PP_PEER_HOLD_MAX };
	struct pp_addr addrs[PP_MAX_ADDRS];
	struct sockaddr_storage local;
	struct pp_peer *p;
	size_t n = 0;
	int err;

	*out = NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return pp_err_set(e, -ENOMEM, "%s", strerror(ENOMEM));
	p->opts = *o;
	if ((err = pp_peer_parse(o->peer, o->default_control_port, p->addr, sizeof(p->addr),
				 &p->control_port, e)) < 0)
		goto fail;
	if ((err = pp_resolve(p->addr, o->service_port, false, addrs, PP_MAX_ADDRS, &n)) < 0 || !n) {
		err = pp_err_set(e, err < 0 ? err : -ENOENT, "--peer %s: cannot resolve %s", o->peer,
				 p->addr);
		goto fail;
	}
	pp_addr_host(&addrs[0], p->addr, sizeof(p->addr));
	snprintf(p->name, sizeof(p->name), addrs[0].ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 p->addr, p->control_port);
	if ((err = local_addr_for(&addrs[0], &local)) < 0) {
		pp_err_set(e, err, "--peer %s: no route to it: %s", o->peer, strerror(-err));
		goto fail;
	}
	/* every connection from this host's address to the service, whatever its port */
	p->req.flags = PP_FETCH_FOLLOW | PP_FETCH_ALL_PORTS;
	p->req.flow.family = local.ss_family == AF_INET ? PP_AF_INET : PP_AF_INET6;
	p->req.flow.server_port = o->service_port;
	addr_bytes(&local, p->req.flow.client_addr);
	addr_bytes(&addrs[0].ss, p->req.flow.server_addr);

	if ((err = pp_service_report_open(&p->report, o->results)) < 0) {
		pp_err_set(e, err, "cannot write %s: %s", o->results, strerror(-err));
		goto fail;
	}
	if (o->plot_dir) {
		if (!(p->copy = tmpfile())) {
			err = pp_err_set(e, -errno, "--plot: a temporary file: %s", strerror(errno));
			goto fail;
		}
		pp_service_report_tee(p->report, fileno(p->copy));
	}
	cfg.on_row = pp_service_report_row;
	cfg.on_conn = pp_service_report_conn;
	cfg.ctx = p->report;
	if ((err = pp_turns_new(&p->turns, &cfg)) < 0 ||
	    (err = pp_handoff_new(&p->handoff, PP_PEER_HANDOFF_MAX, correlate, p)) < 0) {
		pp_err_set(e, err, "%s", strerror(-err));
		goto fail;
	}
	err = pp_control_follow_open(&p->agent, p->addr, p->control_port, &p->req, PEER_TIMEOUT_MS);
	if (err < 0) {
		pp_log_warn("no agent at %s (%s): the rows hold this host's points only (start "
			    "pingpong-ebpf on the server to split the network from its side)", p->name,
			    strerror(-err));
		p->agent = NULL;
		server_over(p);
	} else {
		p->agent_seen = true;
	}
	*out = p;
	return 0;
fail:
	pp_peer_free(p);
	return err;
}

int pp_peer_fd(const struct pp_peer *p)
{
	return p->agent ? pp_control_follow_fd(p->agent) : -1;
}

void pp_peer_poll(struct pp_peer *p)
{
	int rc;

	if (!p->agent)
		return;
	rc = pp_control_follow_read_live(p->agent, on_server_event, p, PEER_SILENCE_MS);
	if (rc)
		agent_over(p, rc == 1 ? 0 : rc);
}

/* STOP, then the agent's rest up to its END (fetch.h): PEER_TIMEOUT_MS in all,
 * PEER_FINAL_SILENCE_MS without a frame at most. */
static void finish_agent(struct pp_peer *p, volatile sig_atomic_t *abort)
{
	pp_peer_poll(p);
	if (p->agent)
		agent_over(p, pp_control_follow_finish(p->agent, on_server_event, p, PEER_TIMEOUT_MS,
						       PEER_FINAL_SILENCE_MS, abort));
}

int pp_peer_finish(struct pp_peer *p, const struct pp_peer_local *local,
		   volatile sig_atomic_t *abort, struct pp_err *e)
{
	int err;

	p->local = *local;
	finish_agent(p, abort);
	p->finished = true;
	/* the correlator's thread takes what waits, then the turns are ours again */
	p->err = pp_handoff_end(p->handoff);
	if (!p->err)
		p->err = pp_turns_finish(p->turns);
	if (p->err)
		return pp_err_set(e, p->err, "correlating: %s", strerror(-p->err));
	if ((err = pp_service_report_commit(p->report)) < 0)
		return pp_err_set(e, err, "cannot write %s: %s", p->opts.results, strerror(-err));
	return 0;
}

static void fill_info(struct pp_peer *p, struct pp_summary_info *info, char *what, size_t len)
{
	const struct pp_turns_stats *st = pp_turns_stats(p->turns);
	uint64_t conns = st->connections - st->pipelined;

	snprintf(what, len, "%s%sturns of %s port %u: %" PRIu64 " exchanges on %" PRIu64
		 " connection%s (live)", p->opts.what ? p->opts.what : "", p->opts.what ? ": " : "",
		 p->addr, p->opts.service_port, st->rows, conns, conns == 1 ? "" : "s");
	*info = (struct pp_summary_info){
		.what = what,
		.lost_samples_client = p->local.lost_samples,
		.lost_samples_server = p->end.lost_samples,
		.pcap_drops_client = p->local.pcap_drops,
		.pcap_drops_server = p->end.pcap_drops,
		.traced = p->local.traced,
		.points_client = p->local.points,
		.server_events = st->events_in[PP_SERVER] > 0,
		.capture = p->local.capture,
		.required_slots = PP_SLOTS_SPLIT,
		.run_start_ns = p->local.run_start_ns,
		.run_end_ns = p->local.run_end_ns,
		.cost_client = { .present = p->local.traced, .known = p->local.bpf_known,
				 .bpf_ns = p->local.bpf_run_ns, .runs = p->local.bpf_runs },
		/* the agent's since the follow began: every row of this run */
		.cost_server = { .present = p->agent_seen, .known = p->agent_ended && p->end.bpf_known,
				 .bpf_ns = p->end.bpf_run_ns, .runs = p->end.bpf_runs },
	};
}

int pp_peer_report(struct pp_peer *p, FILE *out, struct pp_err *e)
{
	const struct pp_turns_stats *st = pp_turns_stats(p->turns);
	struct pp_summary_info info;
	char what[512];
	int err;

	fill_info(p, &info, what, sizeof(what));
	if ((err = pp_service_report_print(p->report, st, &info, p->opts.verbose, out)) < 0)
		return pp_err_set(e, err, "printing the summary: %s", strerror(-err));
	if (!p->agent_seen)
		fprintf(out, "server: no agent at %s; rows hold this host's points only\n", p->name);
	else
		fprintf(out, "server: agent at %s, %" PRIu64 " events%s (%" PRIu64 " more of other "
			"connections left out); it dropped %" PRIu64 " (its --max-events)\n", p->name,
			p->agent_events, p->agent_ended ? "" : " (its stream ended early)",
			p->agent_foreign, p->end.dropped);
	/* the loop reads, a thread correlates: what it could not hold is said, never hidden */
	fprintf(out, "correlation: %" PRIu64 " events waited at most, %" PRIu64 " refused (more than "
		"%u waiting)\n", pp_handoff_high_water(p->handoff), pp_handoff_refused(p->handoff),
		PP_PEER_HANDOFF_MAX);
	fflush(out);
	if (p->opts.summary_json &&
	    (err = pp_service_report_json(p->report, st, &info, p->opts.summary_json)) < 0)
		return pp_err_set(e, err, "cannot write %s: %s", p->opts.summary_json, strerror(-err));
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* pingpong-plot beside this program: the one that came with it. */
static int plot_program(char *buf, size_t len)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return -errno;
	self[n] = '\0';
	if ((size_t)snprintf(buf, len, "%s/pingpong-plot", dirname(self)) >= len)
		return -ENAMETOOLONG;
	return access(buf, X_OK) < 0 ? -errno : 0;
}

/* Runs pingpong-plot on the copy (as fd 3) into tmp_out, then publishes it as out. */
static int draw(struct pp_peer *p, const char *prog, const char *tmp_out, const char *out,
		const char *style, const char *title, struct pp_err *e)
{
	struct pp_atomic_file f;
	char buf[65536];
	int status, err = 0, fd;
	ssize_t n;
	pid_t pid = fork();

	if (pid < 0)
		return pp_err_set(e, -errno, "--plot: fork: %s", strerror(errno));
	if (pid == 0) {
		char *argv[] = { (char *)prog, "--input", "/dev/fd/3", "--output", (char *)tmp_out,
				 (char *)style, "--title", (char *)title, "--quiet", NULL };

		if (dup2(fileno(p->copy), 3) < 0)
			_exit(127);
		execv(prog, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return pp_err_set(e, -errno, "--plot: waiting for pingpong-plot: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return pp_err_set(e, -EIO, "--plot: pingpong-plot failed on %s (its message above)", out);
	if ((fd = open(tmp_out, O_RDONLY | O_CLOEXEC)) < 0)
		return pp_err_set(e, -errno, "--plot: %s: %s", tmp_out, strerror(errno));
	if ((err = pp_atomic_open(&f, out)) < 0) {
		close(fd);
		return pp_err_set(e, err, "cannot write %s: %s", out, strerror(-err));
	}
	while (!err && (n = read(fd, buf, sizeof(buf))) != 0)
		err = n < 0 ? -errno : pp_atomic_write(&f, buf, (size_t)n);
	close(fd);
	err = err ? err : pp_atomic_commit(&f);
	if (err) {
		pp_atomic_abort(&f);
		return pp_err_set(e, err, "cannot write %s: %s", out, strerror(-err));
	}
	return 0;
}

int pp_peer_plot(struct pp_peer *p, struct pp_err *e)
{
	const char *tmpdir = getenv("TMPDIR");
	char prog[4096], dir[4096], tmp_out[4200], out[4200], title[512];
	int err;

	if (!p->opts.plot_dir || !p->copy)
		return 0;
	if (fflush(p->copy) != 0)
		return pp_err_set(e, -errno, "--plot: the results' copy: %s", strerror(errno));
	if ((err = plot_program(prog, sizeof(prog))) < 0)
		return pp_err_set(e, err, "--plot: no pingpong-plot beside this program: %s",
				  strerror(-err));
	/* ours, private: the files pingpong-plot writes before they are copied into place */
	snprintf(dir, sizeof(dir), "%s/pingpong-ebpf.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir))
		return pp_err_set(e, -errno, "--plot: a temporary directory: %s", strerror(errno));
	snprintf(title, sizeof(title), "%s: %" PRIu64 " requests to port %u",
		 p->opts.what ? p->opts.what : "service", pp_service_report_rows(p->report),
		 p->opts.service_port);
	snprintf(tmp_out, sizeof(tmp_out), "%s/cdf.png", dir);
	snprintf(out, sizeof(out), "%s/latency_cdf.png", p->opts.plot_dir);
	err = draw(p, prog, tmp_out, out, "--logx", title, e);
	/* the stacked bars need every part: not without the server's points */
	if (!err && !pp_turns_stats(p->turns)->complete)
		pp_log_info("--plot: no latency_split.png: no row has every point (the server's "
			    "are missing)");
	else if (!err) {
		snprintf(tmp_out, sizeof(tmp_out), "%s/split.png", dir);
		snprintf(out, sizeof(out), "%s/latency_split.png", p->opts.plot_dir);
		err = draw(p, prog, tmp_out, out, "--stacked", title, e);
	}
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return err;
}

size_t pp_peer_outputs(const struct pp_peer_opts *o, const char **paths, char plot_paths[2][4096],
		       size_t max)
{
	size_t n = 0;

	if (n < max && o->results)
		paths[n++] = o->results;
	if (n < max && o->summary_json)
		paths[n++] = o->summary_json;
	if (o->plot_dir && n + 2 <= max) {
		snprintf(plot_paths[0], 4096, "%s/latency_cdf.png", o->plot_dir);
		snprintf(plot_paths[1], 4096, "%s/latency_split.png", o->plot_dir);
		paths[n++] = plot_paths[0];
		paths[n++] = plot_paths[1];
	}
	return n;
}

void pp_peer_free(struct pp_peer *p)
{
	if (!p)
		return;
	pp_control_fetch_close(p->agent);
	pp_handoff_free(p->handoff);   /* joins its thread before the turns go */
	pp_service_report_free(p->report);
	pp_turns_free(p->turns);
	if (p->copy)
		fclose(p->copy);
	free(p);
}

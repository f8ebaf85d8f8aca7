// SPDX-License-Identifier: MIT
/* results.csv (columns in results.h): rows formatted into our own buffer and written with
 * write(2), so that a full disk is reported by the call that hit it rather than lost in stdio;
 * the file appears under its name only once complete (atomic_file.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/atomic_file.h"
#include "analyze/results.h"

#define BUF_SIZE   (64 * 1024)
#define ROW_MAX    1024 /* a row is at most 841 characters: 20 + 17 * 22 + 4 + 22 + 20 * 21 + 1 */

struct pp_results {
	struct pp_atomic_file file;
	int err;              /* first write error, sticky */
	int tee_fd;           /* a second copy (pp_results_tee), or -1 */
	size_t used;
	char buf[BUF_SIZE];
};

static const char header[] =
	"seq,rtt_us,client_stack_us,network_us,server_stack_us,server_app_us,"
	"client_dev_us,wire_us,server_dev_us,"
	"client_proc_us,client_wakeup_us,client_idle_us,client_return_us,"
	"server_proc_us,server_wakeup_us,server_idle_us,server_return_us,"
	"rtt_app_us,retransmitted,incomplete,ping_seq,pong_seq,"
	"c_send_ns,c_xmit_ns,c_wire_tx_ns,c_wire_rx_ns,c_rx_ns,c_tcp_ns,"
	"c_wake_ns,c_idle_ns,c_oncpu_ns,c_recv_ns,"
	"s_wire_rx_ns,s_rx_ns,s_tcp_ns,s_wake_ns,s_idle_ns,s_oncpu_ns,s_recv_ns,"
	"s_send_ns,s_xmit_ns,s_wire_tx_ns\n";

/* Column order of the components, as in the header. */
static const enum pp_component component_cols[] = {
	PP_RTT, PP_CLIENT_STACK, PP_NETWORK, PP_SERVER_STACK, PP_SERVER_APP,
	PP_CLIENT_DEV, PP_WIRE, PP_SERVER_DEV,
	PP_CLIENT_PROC, PP_CLIENT_WAKEUP, PP_CLIENT_IDLE, PP_CLIENT_RETURN,
	PP_SERVER_PROC, PP_SERVER_WAKEUP, PP_SERVER_IDLE, PP_SERVER_RETURN,
	PP_RTT_APP,
};

/* Column order of the raw points: as a message meets them, client then server. */
static const enum pp_slot slot_cols[] = {
	C_SEND, C_XMIT, C_WIRE_TX, C_WIRE_RX, C_RX, C_TCP, C_WAKE, C_IDLE, C_ONCPU, C_RECV,
	S_WIRE_RX, S_RX, S_TCP, S_WAKE, S_IDLE, S_ONCPU, S_RECV, S_SEND, S_XMIT, S_WIRE_TX,
};

_Static_assert(sizeof(component_cols) / sizeof(component_cols[0]) == PP_NCOMPONENTS,
	       "every component has a column");
_Static_assert(sizeof(slot_cols) / sizeof(slot_cols[0]) == PP_NSLOTS, "every point has a column");

static int flush(struct pp_results *r)
{
	if (!r->err && r->used)
		r->err = pp_atomic_write(&r->file, r->buf, r->used);
	if (!r->err && r->used && r->tee_fd >= 0) {
		struct pp_atomic_file copy = { .fd = r->tee_fd };

		r->err = pp_atomic_write(&copy, r->buf, r->used);
	}
	r->used = 0;
	return r->err;
}

static int append(struct pp_results *r, const char *s, size_t len)
{
	if (r->used + len > sizeof(r->buf) && flush(r))
		return r->err;
	memcpy(r->buf + r->used, s, len);
	r->used += len;
	return r->err;
}

/* Nanoseconds as microseconds with exactly 3 decimals, no floating point on the way. */
static int format_us(char *out, size_t cap, int64_t ns)
{
	uint64_t mag = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	return snprintf(out, cap, "%s%" PRIu64 ".%03" PRIu64, ns < 0 ? "-" : "", mag / 1000,
			mag % 1000);
}

static bool row_has_points(const struct pp_row *row)
{
	for (int i = 0; i < PP_NSLOTS; i++)
		if (row->ts[i])
			return true;
	return false;
}

static size_t format_row(const struct pp_row *row, char *out, size_t cap)
{
	struct pp_split split;
	size_t n = 0;
	/* A sequence number may truly be 0; it counts as measured when any point was. */
	bool seq_known = row->ping_seq || row->pong_seq || row_has_points(row);

	pp_split_row(row, &split);
	n += (size_t)snprintf(out + n, cap - n, "%" PRIu64, row->index);
	for (size_t i = 0; i < PP_NCOMPONENTS; i++) {
		out[n++] = ',';
		if (pp_split_has(&split, component_cols[i]))
			n += (size_t)format_us(out + n, cap - n, split.ns[component_cols[i]]);
	}
	n += (size_t)snprintf(out + n, cap - n, ",%d,%d", !!(row->flags & PP_ROW_RETRANS),
			      !!(row->flags & PP_ROW_INCOMPLETE));
	if (seq_known)
		n += (size_t)snprintf(out + n, cap - n, ",%" PRIu32 ",%" PRIu32, row->ping_seq,
				      row->pong_seq);
	else
		n += (size_t)snprintf(out + n, cap - n, ",,");
	for (size_t i = 0; i < PP_NSLOTS; i++) {
		out[n++] = ',';
		if (row->ts[slot_cols[i]])
			n += (size_t)snprintf(out + n, cap - n, "%" PRIu64, row->ts[slot_cols[i]]);
	}
	out[n++] = '\n';
	return n;
}

/* The turns' file: four columns ahead of the usual ones, which keep their names. */
static const char turns_prefix[] = "conn,index,req_bytes,resp_bytes,";

static int open_with(struct pp_results **out, const char *path, bool turns)
{
	struct pp_results *r;
	int rc;

	*out = NULL;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->err = 0;
	r->used = 0;
	r->tee_fd = -1;
	rc = pp_atomic_open(&r->file, path);
	if (rc) {
		free(r);
		return rc;
	}
	rc = turns ? append(r, turns_prefix, sizeof(turns_prefix) - 1) : 0;
	if (!rc)
		rc = append(r, header, sizeof(header) - 1);
	if (rc) {
		pp_results_abort(r);
		return rc;
	}
	*out = r;
	return 0;
}

void pp_results_tee(struct pp_results *r, int fd)
{
	r->tee_fd = fd;
}

int pp_results_open(struct pp_results **out, const char *path)
{
	return open_with(out, path, false);
}

int pp_results_open_turns(struct pp_results **out, const char *path)
{
	return open_with(out, path, true);
}

int pp_results_write_turn(struct pp_results *r, uint64_t conn, uint64_t req_bytes,
			  uint64_t resp_bytes, const struct pp_row *row)
{
	char line[ROW_MAX + 96];
	int n;

	if (r->err)
		return r->err;
	n = snprintf(line, sizeof(line), "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", conn,
		     row->index, req_bytes, resp_bytes);
	return append(r, line, (size_t)n + format_row(row, line + n, sizeof(line) - (size_t)n));
}

int pp_results_write(struct pp_results *r, const struct pp_row *row)
{
	char line[ROW_MAX];
	size_t n;

	if (r->err)
		return r->err;
	n = format_row(row, line, sizeof(line));
	return append(r, line, n);
}

int pp_results_commit(struct pp_results *r)
{
	int rc = flush(r);

	if (rc)
		pp_atomic_abort(&r->file);
	else
		rc = pp_atomic_commit(&r->file);
	free(r);
	return rc;
}

void pp_results_abort(struct pp_results *r)
{
	if (!r)
		return;
	pp_atomic_abort(&r->file);
	free(r);
}

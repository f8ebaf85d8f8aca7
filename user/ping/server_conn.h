// SPDX-License-Identifier: MIT
/* One server connection: the handshake, then every message echoed with one blocking read and
 * one blocking write; bounded in memory, and in time through a watch (watchdog.h). */
#ifndef PP_SERVER_CONN_H
#define PP_SERVER_CONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ping/watchdog.h"

#define PP_SERVER_CONN_HELLO_TIMEOUT_MS 5000   /* the hello must arrive this soon after connecting */
#define PP_SERVER_CONN_SEND_TIMEOUT_MS  10000  /* a pong the client does not take in */
#define PP_SERVER_CONN_IDLE_TIMEOUT_MS  60000  /* no complete message: for the watcher (watchdog.h) */

struct pp_server_conn_cfg {
	uint64_t reply_delay_ns;
	uint64_t mem_budget;              /* bytes of message buffers, all connections together */
	_Atomic uint64_t *mem_used;       /* shared by the connections */
	int send_timeout_ms;              /* 0 = PP_SERVER_CONN_SEND_TIMEOUT_MS (tests shorten it) */
	bool spin;                        /* wait for each ping by polling, not asleep in recv */
};

enum pp_server_conn_end {
	PP_SERVER_CONN_PEER_DONE,     /* closed after the last message, as it should */
	PP_SERVER_CONN_REFUSED,       /* the hello was refused (reply sent) */
	PP_SERVER_CONN_NO_HELLO,      /* closed or timed out before a complete hello */
	PP_SERVER_CONN_VANISHED,      /* closed or reset in the middle of a message */
	PP_SERVER_CONN_STALLED,       /* a pong could not be sent within the send timeout */
	PP_SERVER_CONN_IDLE,          /* the watcher saw no complete message for its timeout */
	PP_SERVER_CONN_TOO_MANY,      /* sent more messages than its hello announced */
	PP_SERVER_CONN_ERROR,         /* a socket error */
};

struct pp_server_conn_result {
	enum pp_server_conn_end end;
	int err;               /* -errno for PP_SERVER_CONN_ERROR and others when known */
	uint16_t status;       /* enum pp_hs_status sent in the reply */
	uint32_t msg_size;
	uint64_t count;        /* announced */
	uint64_t echoed;
};

/* Serves an accepted, blocking socket until the conversation ends; does not close fd. The
 * receive side has no timeout after the hello: watch (may be NULL) is bumped per message, and
 * whoever watches it shuts a quiet connection down (pp_watch_check). */
void pp_server_conn_serve(int fd, const struct pp_server_conn_cfg *cfg, struct pp_watch *watch,
		   struct pp_server_conn_result *res);

/* Sends a BUSY reply without reading the hello (the connection is not served). */
void pp_server_conn_refuse_busy(int fd, const char *reason);

const char *pp_server_conn_end_name(enum pp_server_conn_end end);

#endif

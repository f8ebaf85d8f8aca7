/* One server connection: the handshake, then every message echoed with one blocking read and
 * one blocking write; bounded in memory, and in time through a watch (watchdog.h). */
#ifndef PP_ECHO_H
#define PP_ECHO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "watchdog.h"

#define PP_ECHO_HELLO_TIMEOUT_MS 5000   /* the hello must arrive this soon after connecting */
#define PP_ECHO_SEND_TIMEOUT_MS  10000  /* a pong the client does not take in */
#define PP_ECHO_IDLE_TIMEOUT_MS  60000  /* no complete message: for the watcher (watchdog.h) */

struct pp_echo_cfg {
	uint64_t reply_delay_ns;
	uint64_t mem_budget;              /* bytes of message buffers, all connections together */
	_Atomic uint64_t *mem_used;       /* shared by the connections */
	int send_timeout_ms;              /* 0 = PP_ECHO_SEND_TIMEOUT_MS (tests shorten it) */
	bool spin;                        /* wait for each ping by polling, not asleep in recv */
};

enum pp_echo_end {
	PP_ECHO_PEER_DONE,     /* closed after the last message, as it should */
	PP_ECHO_REFUSED,       /* the hello was refused (reply sent) */
	PP_ECHO_NO_HELLO,      /* closed or timed out before a complete hello */
	PP_ECHO_VANISHED,      /* closed or reset in the middle of a message */
	PP_ECHO_STALLED,       /* a pong could not be sent within the send timeout */
	PP_ECHO_IDLE,          /* the watcher saw no complete message for its timeout */
	PP_ECHO_TOO_MANY,      /* sent more messages than its hello announced */
	PP_ECHO_ERROR,         /* a socket error */
};

struct pp_echo_result {
	enum pp_echo_end end;
	int err;               /* -errno for PP_ECHO_ERROR and others when known */
	uint16_t status;       /* enum pp_hs_status sent in the reply */
	uint32_t msg_size;
	uint64_t count;        /* announced */
	uint64_t echoed;
};

/* Serves an accepted, blocking socket until the conversation ends; does not close fd. The
 * receive side has no timeout after the hello: watch (may be NULL) is bumped per message, and
 * whoever watches it shuts a quiet connection down (pp_watch_check). */
void pp_echo_serve(int fd, const struct pp_echo_cfg *cfg, struct pp_watch *watch,
		   struct pp_echo_result *res);

/* Sends a BUSY reply without reading the hello (the connection is not served). */
void pp_echo_refuse_busy(int fd, const char *reason);

const char *pp_echo_end_name(enum pp_echo_end end);

#endif

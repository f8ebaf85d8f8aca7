// SPDX-License-Identifier: MIT
/* Starts a command held at a gate: the child is forked at once but execs only when
 * released, so the tracer can attach to its pid before the program's first instruction. */
#ifndef PP_SPAWN_H
#define PP_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

struct pp_spawn {
	pid_t pid;
	int gate_fd;      /* write end of the pipe the child waits on; -1 once released or aborted */
	int err_fd;       /* read end of the pipe exec's errno comes back on; -1 once read */
	const char *cmd;  /* argv[0], for the reason */
	bool exec_failed; /* the child could not exec argv and exits 127 */
};

/* 0 or -errno. argv[0] is looked up in PATH. */
int pp_spawn_gated(struct pp_spawn *sp, char *const argv[]);
/* Lets the child exec and waits until it did. 0, or -errno with the reason in e: the release
 * failed, or (exec_failed set) exec did, "cannot run CMD: No such file or directory", and
 * the child exits 127 without printing anything itself. */
int pp_spawn_release(struct pp_spawn *sp, struct pp_err *e);
/* Closes the gate without releasing: the child exits (status 126) without running argv. */
void pp_spawn_abort(struct pp_spawn *sp);
/* Exit status as a shell reports it: the code, or 128+signal. */
int pp_spawn_status_code(int wait_status);

#endif

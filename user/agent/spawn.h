/* Starts a command held at a gate: the child is forked at once but execs only when
 * released, so the tracer can attach to its pid before the program's first instruction. */
#ifndef PP_SPAWN_H
#define PP_SPAWN_H

#include <sys/types.h>

struct pp_spawn {
	pid_t pid;
	int gate_fd; /* write end of the pipe the child waits on; -1 once released or aborted */
};

/* 0 or -errno. argv[0] is looked up in PATH. If exec fails, the child prints why and exits 127. */
int pp_spawn_gated(struct pp_spawn *sp, char *const argv[]);
/* Lets the child exec. 0 or -errno. */
int pp_spawn_release(struct pp_spawn *sp);
/* Closes the gate without releasing: the child exits (status 126) without running argv. */
void pp_spawn_abort(struct pp_spawn *sp);
/* Exit status as a shell reports it: the code, or 128+signal. */
int pp_spawn_status_code(int wait_status);

#endif

/* Gated fork+exec (see spawn.h): a pipe the child reads one byte from before execvp. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/spawn.h"

#define GATE_GO 'g'

static void child_wait_then_exec(int gate_rd, char *const argv[])
{
	char go = 0;
	ssize_t n;

	do {
		n = read(gate_rd, &go, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1 || go != GATE_GO)
		_exit(126);
	close(gate_rd);
	execvp(argv[0], argv);
	fprintf(stderr, "pingpong-ebpf: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int pp_spawn_gated(struct pp_spawn *sp, char *const argv[])
{
	int gate[2];
	pid_t pid;

	sp->pid = -1;
	sp->gate_fd = -1;
	if (pipe2(gate, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(gate[0]);
		close(gate[1]);
		return err;
	}
	if (pid == 0) {
		close(gate[1]);
		child_wait_then_exec(gate[0], argv);
	}
	close(gate[0]);
	sp->pid = pid;
	sp->gate_fd = gate[1];
	return 0;
}

int pp_spawn_release(struct pp_spawn *sp)
{
	char go = GATE_GO;
	int err = 0;

	if (sp->gate_fd < 0)
		return -EBADF;
	if (write(sp->gate_fd, &go, 1) != 1)
		err = -errno;
	close(sp->gate_fd);
	sp->gate_fd = -1;
	return err;
}

void pp_spawn_abort(struct pp_spawn *sp)
{
	if (sp->gate_fd >= 0)
		close(sp->gate_fd);
	sp->gate_fd = -1;
}

int pp_spawn_status_code(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return 1;
}

// SPDX-License-Identifier: MIT
/* Gated fork+exec (see spawn.h): a pipe the child reads one byte from before execvp, and a
 * second one, closed by a successful exec (O_CLOEXEC), that carries exec's errno back when
 * it fails: the child cannot return to anyone's main, so it prints nothing and the parent
 * says why. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/spawn.h"

#define GATE_GO 'g'

static void child_wait_then_exec(int gate_rd, int err_wr, char *const argv[])
{
	char go = 0;
	int code;
	ssize_t n;

	do {
		n = read(gate_rd, &go, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1 || go != GATE_GO)
		_exit(126);
	close(gate_rd);
	execvp(argv[0], argv);
	code = errno;
	/* best effort: if the parent is gone, so is the reader of the reason */
	if (write(err_wr, &code, sizeof(code)) != sizeof(code))
		_exit(127);
	_exit(127);
}

int pp_spawn_gated(struct pp_spawn *sp, char *const argv[])
{
	int gate[2], report[2], err;
	pid_t pid;

	*sp = (struct pp_spawn){ .pid = -1, .gate_fd = -1, .err_fd = -1, .cmd = argv[0] };
	if (pipe2(gate, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(report, O_CLOEXEC) < 0) {
		err = -errno;
		close(gate[0]);
		close(gate[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(gate[0]);
		close(gate[1]);
		close(report[0]);
		close(report[1]);
		return err;
	}
	if (pid == 0) {
		close(gate[1]);
		close(report[0]);
		child_wait_then_exec(gate[0], report[1], argv);
	}
	close(gate[0]);
	close(report[1]);
	sp->pid = pid;
	sp->gate_fd = gate[1];
	sp->err_fd = report[0];
	return 0;
}

/* After the go: EOF once exec succeeded (the pipe closed with it), or exec's errno. */
static int exec_result(struct pp_spawn *sp, struct pp_err *e)
{
	int code = 0;
	ssize_t n;

	do {
		n = read(sp->err_fd, &code, sizeof(code));
	} while (n < 0 && errno == EINTR);
	close(sp->err_fd);
	sp->err_fd = -1;
	if (n != sizeof(code) || code <= 0)
		return 0;
	sp->exec_failed = true;
	return pp_err_set(e, -code, "cannot run %s: %s", sp->cmd, strerror(code));
}

int pp_spawn_release(struct pp_spawn *sp, struct pp_err *e)
{
	char go = GATE_GO;
	int err = 0;

	if (sp->gate_fd < 0)
		return pp_err_set(e, -EBADF, "cannot release %s: it is not held", sp->cmd);
	if (write(sp->gate_fd, &go, 1) != 1)
		err = pp_err_set(e, -errno, "cannot release %s: %s", sp->cmd, strerror(errno));
	close(sp->gate_fd);
	sp->gate_fd = -1;
	return err ? err : exec_result(sp, e);
}

void pp_spawn_abort(struct pp_spawn *sp)
{
	if (sp->gate_fd >= 0)
		close(sp->gate_fd);
	if (sp->err_fd >= 0)
		close(sp->err_fd);
	sp->gate_fd = sp->err_fd = -1;
}

int pp_spawn_status_code(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return 1;
}

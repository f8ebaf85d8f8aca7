// SPDX-License-Identifier: MIT
/* Runs gnuplot as a child process: exec failures come back through a close-on-exec pipe, so
 * "gnuplot is not installed" is told apart from "gnuplot failed". */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot/gnuplot.h"

static int try_dir(const char *dir, const char *name, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return access(path, R_OK) == 0 ? 0 : -ENOENT;
}

int pp_find_plot_script(const char *name, char *path, size_t len)
{
	static const char *const beside_binary[] = { "../plots", "../share/pingpong" };
	const char *env = getenv("PINGPONG_PLOTS_DIR");
	char exe[PATH_MAX], dir[PATH_MAX + 32], *bindir;
	ssize_t n;

	if (env && *env)
		return try_dir(env, name, path, len);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -ENOENT;
	exe[n] = '\0';
	bindir = dirname(exe);
	for (size_t i = 0; i < sizeof(beside_binary) / sizeof(*beside_binary); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", bindir, beside_binary[i]);
		if (try_dir(dir, name, path, len) == 0)
			return 0;
	}
	return -ENOENT;
}

static void exec_gnuplot(const char *params, const char *script, int report_fd)
{
	const char *prog = getenv("GNUPLOT");
	int err;

	if (!prog || !*prog)
		prog = "gnuplot";
	dup2(STDERR_FILENO, STDOUT_FILENO);
	execlp(prog, prog, params, script, (char *)NULL);
	err = errno;
	if (write(report_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

/* Waits for pid; on *stop, terminates it first. */
static int wait_child(pid_t pid, volatile sig_atomic_t *stop, int *status)
{
	for (;;) {
		if (waitpid(pid, status, 0) == pid)
			return 0;
		if (errno != EINTR)
			return -errno;
		if (stop && *stop) {
			kill(pid, SIGTERM);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return -EINTR;
		}
	}
}

int pp_run_gnuplot(const char *params, const char *script, volatile sig_atomic_t *stop)
{
	int report[2], status = 0, exec_err = 0, ret;
	pid_t pid;

	if (pipe2(report, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(report[0]);
		close(report[1]);
		return ret;
	}
	if (pid == 0)
		exec_gnuplot(params, script, report[1]);
	close(report[1]);
	while (read(report[0], &exec_err, sizeof(exec_err)) < 0 && errno == EINTR)
		;
	close(report[0]);
	ret = wait_child(pid, stop, &status);
	if (ret)
		return ret;
	if (exec_err)
		return exec_err == ENOENT ? -ENOENT : -exec_err;
	if (stop && *stop) /* a signal that came before waitpid blocked */
		return -EINTR;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

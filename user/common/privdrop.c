// SPDX-License-Identifier: MIT
/* Dropping root after setup, and the root helper that still renames our output files into
 * directories only root may write (see privdrop.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/privdrop.h"

#define MAX_OUTPUTS 8

enum { OP_CREATE = 'C', OP_COMMIT = 'R', OP_REMOVE = 'U' };

struct request {
	char op;
	char path[PATH_MAX];
};

static int helper_sock = -1;
static pid_t helper_pid = -1;

int pp_privdrop_lookup(const char *name, struct pp_privdrop_user *u)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return errno ? -errno : -ENOENT;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

/* ---- the helper (root, holds nothing but its socket) ---- */

struct slot {
	const char *path;
	char tmp[PATH_MAX + 32];
	bool created;
};

static void sync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int helper_do(struct slot *s, char op, int *fd_out)
{
	int attempt;

	switch (op) {
	case OP_CREATE:
		if (s->created)
			return -EEXIST;
		for (attempt = 0; attempt < 100; attempt++) {
			snprintf(s->tmp, sizeof(s->tmp), "%s.tmp.%d.%d", s->path, (int)getpid(), attempt);
			*fd_out = open(s->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
			if (*fd_out >= 0 || errno != EEXIST)
				break;
		}
		if (*fd_out < 0)
			return -errno;
		s->created = true;
		return 0;
	case OP_COMMIT:
		if (!s->created)
			return -ENOENT;
		if (rename(s->tmp, s->path) < 0)
			return -errno;
		s->created = false;
		sync_dir(s->path);
		return 0;
	case OP_REMOVE:
		if (s->created)
			unlink(s->tmp);
		s->created = false;
		return 0;
	default:
		return -EINVAL;
	}
}

static void helper_reply(int sock, int rc, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &rc, .iov_len = sizeof(rc) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (fd >= 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	sendmsg(sock, &msg, MSG_NOSIGNAL);
	if (fd >= 0)
		close(fd);
}

/* Serves requests for the registered paths only, until the socket closes; then removes
 * whatever temp file was never committed (the parent failed, or was killed). */
static void helper_main(int sock, struct slot *slots, size_t n)
{
	struct request req;
	size_t i;

	/* Ctrl-C reaches the whole process group: the helper still has to clean up after it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		ssize_t len = recv(sock, &req, sizeof(req) - 1, 0);
		int rc = -EPERM, fd = -1;

		if (len <= 0)
			break;
		((char *)&req)[len] = '\0';
		for (i = 0; i < n; i++)
			if (len > 1 && strcmp(slots[i].path, req.path) == 0) {
				rc = helper_do(&slots[i], req.op, &fd);
				break;
			}
		helper_reply(sock, rc, fd);
	}
	for (i = 0; i < n; i++)
		helper_do(&slots[i], OP_REMOVE, NULL);
	_exit(0);
}

int pp_privdrop_outputs(const char *const *paths, size_t n)
{
	struct slot slots[MAX_OUTPUTS] = { 0 };
	size_t i, used = 0;
	int sv[2];
	pid_t pid;

	for (i = 0; i < n; i++)
		if (paths[i] && used < MAX_OUTPUTS)
			slots[used++].path = paths[i];
	if (!used)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		/* Nothing inherited (BPF links, sockets, the capture) may outlive the parent here. */
		if (dup2(sv[1], 3) < 0)
			_exit(1);
		syscall(SYS_close_range, 4U, ~0U, 0U);
		/* No PR_SET_PDEATHSIG: when the parent dies, the socket's EOF ends the helper
		 * after it removed the temp files, which a SIGKILL would leave behind. */
		helper_main(3, slots, used);
	}
	close(sv[1]);
	helper_sock = sv[0];
	helper_pid = pid;
	return 0;
}

void pp_privdrop_outputs_close(void)
{
	if (helper_sock < 0)
		return;
	close(helper_sock);
	helper_sock = -1;
	waitpid(helper_pid, NULL, 0);
	helper_pid = -1;
}

static int ask(char op, const char *path, int *fd_out)
{
	struct request req = { .op = op };
	char cbuf[CMSG_SPACE(sizeof(int))];
	int rc;
	struct iovec iov = { .iov_base = &rc, .iov_len = sizeof(rc) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	size_t len = strlen(path);

	if (helper_sock < 0)
		return -ENOSYS;
	if (len >= sizeof(req.path))
		return -ENAMETOOLONG;
	memcpy(req.path, path, len + 1);
	if (send(helper_sock, &req, 1 + len, MSG_NOSIGNAL) < 0)
		return -errno;
	if (recvmsg(helper_sock, &msg, MSG_CMSG_CLOEXEC) != sizeof(rc))
		return -EIO;
	cm = CMSG_FIRSTHDR(&msg);
	if (fd_out && cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd_out, CMSG_DATA(cm), sizeof(int));
	if (rc == -EPERM) /* not one of the registered paths: the caller does it itself */
		return -ENOSYS;
	return rc;
}

int pp_privdrop_create_tmp(const char *path)
{
	int fd = -1, rc = ask(OP_CREATE, path, &fd);

	return rc < 0 ? rc : fd;
}

int pp_privdrop_commit_tmp(const char *path)
{
	return ask(OP_COMMIT, path, NULL);
}

int pp_privdrop_remove_tmp(const char *path)
{
	return ask(OP_REMOVE, path, NULL);
}

/* ---- the drop ---- */

/* Sets both the permitted and the effective set to caps (bits 0..63). */
static int set_caps(__u64 permitted, __u64 effective)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {
		{ .permitted = (__u32)permitted, .effective = (__u32)effective },
		{ .permitted = (__u32)(permitted >> 32), .effective = (__u32)(effective >> 32) },
	};

	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* The capability bpf() asks for: CAP_BPF since Linux 5.8, CAP_SYS_ADMIN before (no CAP_BPF). */
static int bpf_cap(void)
{
	int last = 0;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = 0;
		fclose(f);
	}
	return last >= CAP_BPF ? CAP_BPF : CAP_SYS_ADMIN;
}

/* Before Linux 5.19 (commit c8644cd0efe7, "bpf: refine kernel.unprivileged_bpf_disabled
 * behaviour") a kernel with unprivileged BPF disabled (Debian's default) refuses every bpf()
 * command, even a lookup in a map the process already holds, to a caller without CAP_BPF:
 * the flush and the loss count would fail after the drop. Probed with a lookup on fd -1, with
 * no capability effective: EPERM there, EBADF where the map's fd is what counts. */
static bool bpf_needs_capability(void)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)-1;
	return syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) < 0 && errno == EPERM;
}

int pp_privdrop(const struct pp_privdrop_user *u, bool keep_kill)
{
	__u64 keep = keep_kill ? 1ull << CAP_KILL : 0, bpf = 1ull << bpf_cap();
	int err;

	/* capabilities survive the uid change, so the probe below can still keep one */
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
		return -errno;
	/* Groups and gid first: after setuid we may no longer change them. */
	if (setgroups(0, NULL) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0)
		return -errno;
	if ((err = set_caps(keep | bpf, keep)) < 0)
		return err;
	if (bpf_needs_capability())
		keep |= bpf;
	if ((err = set_caps(keep, keep)) < 0)
		return err;
	prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		return -errno;
	if (u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM; /* root could be regained: refuse to go on */
	return 0;
}

int pp_privdrop_to(const char *name, bool keep_root, bool keep_kill, struct pp_err *e)
{
	struct pp_privdrop_user u;
	int rc;

	if (keep_root || geteuid() != 0)
		return 0;
	if ((rc = pp_privdrop_lookup(name, &u)) < 0)
		return pp_err_set(e, rc, "no user '%s' to run as (give --user NAME or --keep-root)",
				  name);
	if ((rc = pp_privdrop(&u, keep_kill)) < 0)
		return pp_err_set(e, rc, "cannot become user '%s': %s", name, strerror(-rc));
	return 0;
}

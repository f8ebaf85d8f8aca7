// SPDX-License-Identifier: MIT
/* Listening sockets by inode from /proc/net/tcp{,6}, matched to processes by the
 * "socket:[inode]" links in /proc/PID/fd. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/procnet.h"

#define TCP_LISTEN 0x0A
#define MAX_LISTENERS 1024

struct listener {
	unsigned long inode;
	__u16 port;
};

static int read_listeners_file(const char *path, struct listener *l, size_t max, size_t *n)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return errno == ENOENT ? 0 : -errno; /* no IPv6 in this kernel */
	if (!fgets(line, sizeof(line), f)) { /* the header */
		fclose(f);
		return 0;
	}
	while (*n < max && fgets(line, sizeof(line), f)) {
		unsigned int port, state;
		unsigned long inode;

		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
			   &port, &state, &inode) == 3 && state == TCP_LISTEN && inode) {
			l[*n].inode = inode;
			l[*n].port = (__u16)port;
			(*n)++;
		}
	}
	fclose(f);
	return 0;
}

/* The listening sockets of this network namespace, in a new array (free it), or -errno. */
static int read_listeners(struct listener **out)
{
	struct listener *l = calloc(MAX_LISTENERS, sizeof(*l));
	size_t n = 0;
	int err;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	if ((err = read_listeners_file("/proc/net/tcp", l, MAX_LISTENERS, &n)) < 0 ||
	    (err = read_listeners_file("/proc/net/tcp6", l, MAX_LISTENERS, &n)) < 0) {
		free(l);
		return err;
	}
	*out = l;
	return (int)n;
}

/* Calls fn for every socket inode process pid has open. */
static void for_each_socket_of(pid_t pid, void (*fn)(void *ctx, unsigned long inode), void *ctx)
{
	char dir_path[64], link_path[320], target[64];
	struct dirent *d;
	unsigned long inode;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fd", (int)pid);
	dir = opendir(dir_path);
	if (!dir)
		return; /* gone, or not ours to read */
	while ((d = readdir(dir))) {
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(link_path, sizeof(link_path), "%s/%s", dir_path, d->d_name);
		n = readlink(link_path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%lu]", &inode) == 1)
			fn(ctx, inode);
	}
	closedir(dir);
}

struct owner_search {
	const struct listener *listeners;
	size_t n_listeners;
	__u16 port;
	bool found;
};

static void match_owner(void *ctx, unsigned long inode)
{
	struct owner_search *s = ctx;
	size_t i;

	for (i = 0; i < s->n_listeners; i++)
		if (s->listeners[i].inode == inode && s->listeners[i].port == s->port)
			s->found = true;
}

int pp_listen_owners(__u16 port, pid_t *pids, size_t max)
{
	struct owner_search s = { .port = port };
	struct listener *listeners;
	struct dirent *d;
	size_t n = 0;
	DIR *proc;
	int got;

	got = read_listeners(&listeners);
	if (got < 0)
		return got;
	s.listeners = listeners;
	s.n_listeners = (size_t)got;
	proc = opendir("/proc");
	if (!proc) {
		got = -errno;
		free(listeners);
		return got;
	}
	while (n < max && (d = readdir(proc))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		s.found = false;
		for_each_socket_of((pid_t)atoi(d->d_name), match_owner, &s);
		if (s.found)
			pids[n++] = (pid_t)atoi(d->d_name);
	}
	closedir(proc);
	free(listeners);
	return (int)n;
}

struct port_search {
	const struct listener *listeners;
	size_t n_listeners;
	__u16 *ports;
	size_t n, max;
};

static void collect_port(void *ctx, unsigned long inode)
{
	struct port_search *s = ctx;
	size_t i, j;

	for (i = 0; i < s->n_listeners; i++) {
		if (s->listeners[i].inode != inode)
			continue;
		for (j = 0; j < s->n && s->ports[j] != s->listeners[i].port; j++)
			;
		if (j == s->n && s->n < s->max)
			s->ports[s->n++] = s->listeners[i].port;
	}
}

int pp_listen_ports(pid_t pid, __u16 *ports, size_t max)
{
	struct port_search s = { .ports = ports, .max = max };
	struct listener *listeners;
	int got = read_listeners(&listeners);

	if (got < 0)
		return got;
	s.listeners = listeners;
	s.n_listeners = (size_t)got;
	for_each_socket_of(pid, collect_port, &s);
	free(listeners);
	return (int)s.n;
}

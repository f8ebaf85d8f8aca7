// SPDX-License-Identifier: MIT
/* Who listens where, from /proc/net/tcp{,6} (this network namespace) and /proc/PID/fd:
 * lets pingpong-ebpf find the server behind --port, or the ports behind --pid. */
#ifndef PP_PROCNET_H
#define PP_PROCNET_H

#include <linux/types.h>
#include <stddef.h>
#include <sys/types.h>

/* Processes holding a TCP socket listening on port: count stored in pids (at most max), or -errno. */
int pp_listen_owners(__u16 port, pid_t *pids, size_t max);
/* TCP ports process pid listens on: count stored in ports (at most max, no duplicates), or -errno. */
int pp_listen_ports(pid_t pid, __u16 *ports, size_t max);

#endif

// SPDX-License-Identifier: MIT
/* Least privilege: once the BPF programs, the capture and the sockets are open, the process
 * becomes an ordinary user (no groups, no capabilities but an optional CAP_KILL, and CAP_BPF
 * where an older kernel needs it to read our own maps). The few output
 * files it still has to create beside root-owned targets go through a tiny root helper that
 * only creates, renames or removes the temporary files of the paths registered before the drop. */
#ifndef PP_PRIVDROP_H
#define PP_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

struct pp_privdrop_user {
	uid_t uid;
	gid_t gid;
};

/* The user's uid and primary gid; -ENOENT when there is no such user. */
int pp_privdrop_lookup(const char *name, struct pp_privdrop_user *u);
/* Forks the root helper that will create/rename the temp files of these output paths (NULL
 * entries are skipped). Call before opening anything the helper must not hold: it closes every
 * inherited descriptor anyway. 0 or -errno. */
int pp_privdrop_outputs(const char *const *paths, size_t n);
/* setgroups(0), setgid, setuid (real, effective and saved), then no capability but CAP_KILL
 * when keep_kill (to signal a child started as root) and, on a kernel whose bpf() refuses
 * even the maps we hold without it (before 5.19, unprivileged BPF disabled), CAP_BPF
 * (CAP_SYS_ADMIN before 5.8); and no_new_privs. Checks that root cannot be regained.
 * 0 or -errno. */
int pp_privdrop(const struct pp_privdrop_user *u, bool keep_kill);
/* What the programs do once set up: as root and unless keep_root, becomes the user named
 * `name` (pp_privdrop_lookup, pp_privdrop). 0 (also when nothing was to be done) or -errno
 * with the reason in e ("no user 'x' to run as (give --user NAME or --keep-root)"). */
int pp_privdrop_to(const char *name, bool keep_root, bool keep_kill, struct pp_err *e);
/* Ends the helper (it removes temp files never committed) and waits for it. */
void pp_privdrop_outputs_close(void);

/* Used by atomic_file.c: -ENOSYS when no helper serves this path (do it yourself). */
int pp_privdrop_create_tmp(const char *path);       /* the temp file's fd */
int pp_privdrop_commit_tmp(const char *path);       /* rename into place, fsync the directory */
int pp_privdrop_remove_tmp(const char *path);

#endif

// SPDX-License-Identifier: MIT
/* Output files that appear under their name only when complete: a temp file beside the
 * target, fsync, rename, fsync of the directory; after a privilege drop, the root helper of
 * common/privdrop.h creates and renames the temp file. The one output-file module: written
 * through the fd (pp_atomic_write), or by name by another program (gnuplot writes tmp_path,
 * then pp_atomic_commit_nonempty). Errors are -errno. */
#ifndef PP_ATOMIC_FILE_H
#define PP_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>

struct pp_atomic_file {
	int fd;               /* write here */
	bool created;         /* tmp_path exists and is ours */
	char *path;
	char *tmp_path;       /* the temp file's name; "" when the root helper holds it */
};

int pp_atomic_open(struct pp_atomic_file *f, const char *path);
/* write(2) to f's temp file until done; -errno of the call that failed (e.g. -ENOSPC). */
int pp_atomic_write(struct pp_atomic_file *f, const void *buf, size_t len);
/* fsync, close, rename into place. On failure the temp file is removed. Frees f's strings. */
int pp_atomic_commit(struct pp_atomic_file *f);
/* The same for a temp file another program wrote by name (and may have replaced): -ENODATA,
 * and nothing renamed, when it is empty. */
int pp_atomic_commit_nonempty(struct pp_atomic_file *f);
/* Closes and removes the temp file. Safe to repeat, and after pp_atomic_open failed. */
void pp_atomic_abort(struct pp_atomic_file *f);

#endif

/* Output files that appear under their name only when complete: a temp file beside the
 * target, fsync, rename, fsync of the directory. Errors are -errno. */
#ifndef PP_ATOMIC_FILE_H
#define PP_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>

struct pp_atomic_file {
	int fd;               /* write here */
	bool created;         /* tmp_path exists and is ours */
	char *path;
	char *tmp_path;
};

int pp_atomic_open(struct pp_atomic_file *f, const char *path);
/* write(2) until done; -errno of the call that failed (e.g. -ENOSPC). */
int pp_write_all(int fd, const void *buf, size_t len);
/* fsync, close, rename into place. On failure the temp file is removed. Frees f's strings. */
int pp_atomic_commit(struct pp_atomic_file *f);
/* Closes and removes the temp file. Safe to repeat, and after pp_atomic_open failed. */
void pp_atomic_abort(struct pp_atomic_file *f);

#endif

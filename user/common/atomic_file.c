// SPDX-License-Identifier: MIT
/* Write-then-rename output files, so that a failed or interrupted run never leaves a
 * half-written results.csv or summary behind. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/privdrop.h"

int pp_atomic_open(struct pp_atomic_file *f, const char *path)
{
	size_t len;
	int rc;

	*f = (struct pp_atomic_file){ .fd = -1 };
	if (!path || !*path)
		return -EINVAL;
	len = strlen(path) + 32;
	f->path = strdup(path);
	f->tmp_path = malloc(len);
	if (!f->path || !f->tmp_path) {
		pp_atomic_abort(f);
		return -ENOMEM;
	}
	/* After a privilege drop, the root helper creates it for us (in a directory we may no
	 * longer write); it names the temp file itself. */
	f->fd = pp_privdrop_create_tmp(path);
	if (f->fd >= 0) {
		snprintf(f->tmp_path, len, "%s", "");
		f->created = true;
		return 0;
	}
	if (f->fd != -ENOSYS) {
		rc = f->fd;
		f->fd = -1;
		pp_atomic_abort(f);
		return rc;
	}
	/* Beside the target, so that rename() stays within one file system. The mode honours
	 * the umask like any file the user creates (mkstemp would force 0600). */
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(f->tmp_path, len, "%s.tmp.%d.%d", path, (int)getpid(), attempt);
		f->fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (f->fd >= 0 || errno != EEXIST)
			break;
	}
	if (f->fd < 0) {
		rc = -errno;
		pp_atomic_abort(f);
		return rc;
	}
	f->created = true;
	return 0;
}

int pp_atomic_write(struct pp_atomic_file *f, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t rc = write(f->fd, p, len);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -EIO;
		p += rc;
		len -= (size_t)rc;
	}
	return 0;
}

/* The rename is durable only once the directory itself is on disk. */
static int sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		/* Some file systems refuse fsync on directories; the data itself is synced. */
		if (fsync(fd) && errno != EINVAL && errno != EROFS)
			rc = -errno;
		close(fd);
	}
	free(copy);
	return rc;
}

int pp_atomic_commit(struct pp_atomic_file *f)
{
	int rc = 0;

	if (f->fd < 0)
		rc = -EBADF;
	else if (fsync(f->fd) && errno != EINVAL) /* EINVAL: e.g. a pipe, nothing to sync */
		rc = -errno;
	if (f->fd >= 0 && close(f->fd) && !rc)
		rc = -errno;
	f->fd = -1;
	if (!rc && !*f->tmp_path) { /* the root helper's file */
		rc = pp_privdrop_commit_tmp(f->path);
		if (!rc)
			f->created = false;
	} else if (!rc && rename(f->tmp_path, f->path))
		rc = -errno;
	if (!rc && *f->tmp_path) {
		f->created = false;
		rc = sync_dir_of(f->path);
	}
	pp_atomic_abort(f);
	return rc;
}

int pp_atomic_commit_nonempty(struct pp_atomic_file *f)
{
	struct stat st;
	int fd, rc = 0;

	/* Look at what is under the temp name now: the writer may have replaced our file. */
	if (f->fd >= 0 && *f->tmp_path) {
		fd = open(f->tmp_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			pp_atomic_abort(f);
			return rc;
		}
		close(f->fd);
		f->fd = fd;
	}
	if (f->fd < 0)
		rc = -EBADF;
	else if (fstat(f->fd, &st) < 0)
		rc = -errno;
	else if (st.st_size == 0)
		rc = -ENODATA;
	if (rc) {
		pp_atomic_abort(f);
		return rc;
	}
	return pp_atomic_commit(f);
}

void pp_atomic_abort(struct pp_atomic_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->created && !*f->tmp_path)
		pp_privdrop_remove_tmp(f->path);
	else if (f->created)
		unlink(f->tmp_path);
	f->created = false;
	free(f->path);
	free(f->tmp_path);
	f->path = f->tmp_path = NULL;
}

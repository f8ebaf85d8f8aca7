/* Temp-then-rename output files, so a failed or interrupted run never leaves a partial file. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/outfile.h"

int pp_outfile_begin(struct pp_outfile *o, const char *path)
{
	char dir_buf[PATH_MAX], base_buf[PATH_MAX];
	mode_t mask;
	int fd, n;

	o->tmp[0] = '\0';
	if (strlen(path) >= sizeof(o->path) || !*path)
		return -ENAMETOOLONG;
	strcpy(o->path, path);
	strcpy(dir_buf, path);
	strcpy(base_buf, path);
	n = snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", dirname(dir_buf), basename(base_buf));
	if (n < 0 || (size_t)n >= sizeof(o->tmp)) {
		o->tmp[0] = '\0';
		return -ENAMETOOLONG;
	}
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		o->tmp[0] = '\0';
		return -errno;
	}
	/* mkstemp makes 0600; an image is as readable as any file the user creates. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0) {
		int err = -errno;

		close(fd);
		pp_outfile_abort(o);
		return err;
	}
	close(fd);
	return 0;
}

int pp_outfile_commit(struct pp_outfile *o)
{
	struct stat st;
	int fd, err = 0;

	fd = open(o->tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		err = -errno;
	else if (st.st_size == 0)
		err = -ENODATA;
	else if (fsync(fd) < 0 || rename(o->tmp, o->path) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		pp_outfile_abort(o);
	else
		o->tmp[0] = '\0';
	return err;
}

void pp_outfile_abort(struct pp_outfile *o)
{
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

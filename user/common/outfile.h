/* An output file that appears whole or not at all: written under a temporary name in the
 * target's directory, then renamed over the target. */
#ifndef PP_OUTFILE_H
#define PP_OUTFILE_H

#include <limits.h>

struct pp_outfile {
	char path[PATH_MAX];
	char tmp[PATH_MAX];     /* empty when there is nothing to clean up */
};

/* Creates the (empty) temporary file, mode 0666 & ~umask; 0 or -errno. */
int pp_outfile_begin(struct pp_outfile *o, const char *path);
/* The temporary file must be non-empty (-ENODATA); fsyncs it and renames it into place.
 * On failure the temporary file is removed. */
int pp_outfile_commit(struct pp_outfile *o);
void pp_outfile_abort(struct pp_outfile *o);

#endif

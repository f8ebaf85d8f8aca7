// SPDX-License-Identifier: MIT
/* Reads a header-named CSV row by row through one buffer that grows to the longest line (up to
 * PP_CSV_MAX_LINE); numbers are parsed only for the cells a caller asks about, with an exact
 * fast path because a million-row file is the norm. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plot/csvread.h"

struct pp_csv {
	int fd;
	char *buf;              /* cap + 1 bytes; lines are cut in place */
	size_t cap;             /* grows by doubling while a line does not fit, to PP_CSV_MAX_LINE */
	size_t start, end;      /* unread bytes are buf[start..end) */
	bool eof;
	size_t lineno;
	size_t ncols;
	char **names;
	const char **cell;      /* current row */
	size_t *cell_len;
};

/* Exact powers of ten: a decimal with at most 15 digits divided by one of these is correctly
 * rounded (one IEEE division of two exact values), so it equals what strtod returns. */
static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static bool is_number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || c == 'e' || c == 'E';
}

/* Plain decimals ("123.456", no exponent, <= 15 digits): returns false to defer to strtod. */
static bool parse_plain_decimal(const char *s, size_t len, double *out)
{
	uint64_t mantissa = 0;
	size_t i = 0, digits = 0, frac_digits = 0;
	bool negative = false, in_fraction = false;

	if (s[0] == '-' || s[0] == '+') {
		negative = s[0] == '-';
		i++;
	}
	for (; i < len; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9') {
			if (++digits > 15)
				return false;
			mantissa = mantissa * 10 + (uint64_t)(c - '0');
			frac_digits += in_fraction;
		} else if (c == '.' && !in_fraction) {
			in_fraction = true;
		} else {
			return false;
		}
	}
	if (digits == 0)
		return false;
	*out = (double)mantissa / pow10_exact[frac_digits];
	if (negative)
		*out = -*out;
	return true;
}

int pp_parse_double(const char *s, size_t len, double *out)
{
	char small[64], *copy = small, *end;
	double v;

	if (len == 0)
		return -ENODATA;
	for (size_t i = 0; i < len; i++)
		if (!is_number_char(s[i]))
			return -EINVAL;
	if (!parse_plain_decimal(s, len, &v)) {
		if (len >= sizeof(small) && !(copy = strndup(s, len)))
			return -ENOMEM;
		if (copy == small) {
			memcpy(small, s, len);
			small[len] = '\0';
		}
		errno = 0;
		v = strtod(copy, &end);
		bool whole = end == copy + len;
		if (copy != small)
			free(copy);
		if (!whole)
			return -EINVAL;
	}
	if (!isfinite(v))
		return -ERANGE;
	*out = v + 0.0; /* -0 + 0 = +0: "-0.000" must not print as a negative zero */
	return 0;
}

/* 64 KiB holds any results.csv row many times over; a longer line doubles the buffer. */
#define CSV_FIRST_CAP (64u << 10)

static int grow_buffer(struct pp_csv *csv)
{
	size_t cap = csv->cap * 2 > PP_CSV_MAX_LINE ? PP_CSV_MAX_LINE : csv->cap * 2;
	char *buf = realloc(csv->buf, cap + 1);

	if (!buf)
		return -ENOMEM;
	csv->buf = buf;
	csv->cap = cap;
	return 0;
}

/* Next line, NUL-terminated in place, without its "\n" or "\r\n"; NULL at end of file. */
static int read_line(struct pp_csv *csv, char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(csv->buf + csv->start, '\n', csv->end - csv->start);

		if (nl || (csv->eof && csv->end > csv->start)) {
			char *begin = csv->buf + csv->start;
			size_t n = nl ? (size_t)(nl - begin) : csv->end - csv->start;

			csv->start += nl ? n + 1 : n;
			if (n > 0 && begin[n - 1] == '\r')
				n--;
			begin[n] = '\0'; /* the byte after the line exists: buf has one spare */
			csv->lineno++;
			*line = begin;
			*len = n;
			return 1;
		}
		if (csv->eof)
			return 0;
		memmove(csv->buf, csv->buf + csv->start, csv->end - csv->start);
		csv->end -= csv->start;
		csv->start = 0;
		if (csv->end == csv->cap) {
			int err;

			if (csv->cap == PP_CSV_MAX_LINE) {
				csv->lineno++;
				return -E2BIG;
			}
			if ((err = grow_buffer(csv)) < 0)
				return err;
		}
		ssize_t got = read(csv->fd, csv->buf + csv->end, csv->cap - csv->end);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		csv->end += (size_t)got;
		csv->eof = got == 0;
	}
}

/* Splits line into cells; returns how many there are (up to max are recorded). */
static size_t split_cells(char *line, size_t len, const char **cell, size_t *cell_len, size_t max)
{
	size_t n = 0;
	char *p = line, *end = line + len;

	for (;;) {
		char *comma = memchr(p, ',', (size_t)(end - p));
		char *stop = comma ? comma : end;

		if (n < max) {
			cell[n] = p;
			cell_len[n] = (size_t)(stop - p);
		}
		n++;
		if (!comma)
			return n;
		p = comma + 1;
	}
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, so duplicates are neighbours: comparing every pair took 20 s on a 1 MiB header. */
static int check_unique(char **names, size_t n)
{
	char **sorted = malloc(n * sizeof(*sorted));
	int err = 0;

	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, names, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_name);
	for (size_t i = 1; i < n && !err; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			err = -EBADMSG;
	free(sorted);
	return err;
}

static int read_header(struct pp_csv *csv)
{
	char *line;
	size_t len, n;
	int err;

	do {
		err = read_line(csv, &line, &len);
		if (err <= 0)
			return err ? err : -ENODATA;
	} while (len == 0);

	n = split_cells(line, len, NULL, NULL, 0);
	csv->names = calloc(n, sizeof(*csv->names));
	csv->cell = calloc(n, sizeof(*csv->cell));
	csv->cell_len = calloc(n, sizeof(*csv->cell_len));
	if (!csv->names || !csv->cell || !csv->cell_len)
		return -ENOMEM;
	csv->ncols = n;
	split_cells(line, len, csv->cell, csv->cell_len, n);
	for (size_t i = 0; i < n; i++) {
		/* a NUL would cut the name short, to "" or to another column's name (t/fuzz/csvread) */
		if (csv->cell_len[i] == 0 || memchr(csv->cell[i], '\0', csv->cell_len[i]))
			return -EBADMSG;
		if (!(csv->names[i] = strndup(csv->cell[i], csv->cell_len[i])))
			return -ENOMEM;
	}
	return check_unique(csv->names, n);
}

int pp_csv_open(struct pp_csv **out, const char *path)
{
	struct pp_csv *csv = calloc(1, sizeof(*csv));
	int err;

	*out = NULL;
	if (!csv)
		return -ENOMEM;
	csv->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (csv->fd < 0) {
		err = -errno;
		free(csv);
		return err;
	}
	csv->cap = CSV_FIRST_CAP < PP_CSV_MAX_LINE ? CSV_FIRST_CAP : PP_CSV_MAX_LINE;
	csv->buf = malloc(csv->cap + 1);
	err = csv->buf ? read_header(csv) : -ENOMEM;
	if (err) {
		pp_csv_close(csv);
		return err;
	}
	*out = csv;
	return 0;
}

void pp_csv_close(struct pp_csv *csv)
{
	if (!csv)
		return;
	for (size_t i = 0; csv->names && i < csv->ncols; i++)
		free(csv->names[i]);
	free(csv->names);
	free(csv->cell);
	free(csv->cell_len);
	free(csv->buf);
	close(csv->fd);
	free(csv);
}

size_t pp_csv_ncols(const struct pp_csv *csv)
{
	return csv->ncols;
}

const char *pp_csv_name(const struct pp_csv *csv, size_t col)
{
	return csv->names[col];
}

int pp_csv_find(const struct pp_csv *csv, const char *name)
{
	for (size_t i = 0; i < csv->ncols; i++)
		if (strcmp(csv->names[i], name) == 0)
			return (int)i;
	return -ENOENT;
}

int pp_csv_next(struct pp_csv *csv)
{
	char *line;
	size_t len;
	int err;

	do {
		err = read_line(csv, &line, &len);
		if (err <= 0)
			return err;
	} while (len == 0);
	if (split_cells(line, len, csv->cell, csv->cell_len, csv->ncols) != csv->ncols)
		return -EBADMSG;
	return 1;
}

size_t pp_csv_lineno(const struct pp_csv *csv)
{
	return csv->lineno;
}

const char *pp_csv_cell(const struct pp_csv *csv, size_t col, size_t *len)
{
	*len = csv->cell_len[col];
	return csv->cell[col];
}

int pp_csv_double(const struct pp_csv *csv, size_t col, double *out)
{
	return pp_parse_double(csv->cell[col], csv->cell_len[col], out);
}

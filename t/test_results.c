// SPDX-License-Identifier: MIT
/* results.csv: the header, empty cells for what was not measured, exact microseconds, and
 * the file appearing only when complete (no file after an abort or a full disk). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/results.h"
#include "check_main.h"

/* The header the README documents, column by column, as its own check on results.c's copy. */
static const char header[] =
	"seq,rtt_us,"
	"client_stack_us,network_us,server_stack_us,server_app_us,"
	"client_dev_us,wire_us,server_dev_us,"
	"client_proc_us,client_wakeup_us,client_idle_us,client_return_us,"
	"server_proc_us,server_wakeup_us,server_idle_us,server_return_us,"
	"rtt_app_us,retransmitted,incomplete,ping_seq,pong_seq,"
	"c_send_ns,c_xmit_ns,c_wire_tx_ns,c_wire_rx_ns,c_rx_ns,c_tcp_ns,c_wake_ns,c_idle_ns,c_oncpu_ns,"
	"c_recv_ns,"
	"s_wire_rx_ns,s_rx_ns,s_tcp_ns,s_wake_ns,s_idle_ns,s_oncpu_ns,s_recv_ns,s_send_ns,s_xmit_ns,"
	"s_wire_tx_ns\n";

static char dir[64];
static char path[128];

static void setup(void)
{
	strcpy(dir, "/tmp/pp-test-results.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/results.csv", dir);
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static char *slurp(const char *p)
{
	static char buf[1 << 16];
	FILE *f = fopen(p, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void write_rows(const struct pp_row *rows, size_t n)
{
	struct pp_results *r;

	ck_assert_int_eq(pp_results_open(&r, path), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(pp_results_write(r, &rows[i]), 0);
	ck_assert_int_eq(pp_results_commit(r), 0);
}

START_TEST(test_header_names_every_column)
{
	write_rows(NULL, 0);
	ck_assert_str_eq(slurp(path), header);
}
END_TEST

START_TEST(test_untraced_row_has_empty_cells_not_zeros)
{
	struct pp_row row = { .index = 7, .rtt_app_ns = 25123 };

	write_rows(&row, 1);
	ck_assert_str_eq(slurp(path) + strlen(header),
			 "7,,,,,,,,,,,,,,,,,25.123,0,0,,,,,,,,,,,,,,,,,,,,,,\n");
}
END_TEST

START_TEST(test_unknown_rtt_app_is_empty)
{
	struct pp_row row = { .index = 0, .rtt_app_ns = -1 };

	write_rows(&row, 1);
	ck_assert_str_eq(slurp(path) + strlen(header),
			 "0,,,,,,,,,,,,,,,,,,0,0,,,,,,,,,,,,,,,,,,,,,,\n");
}
END_TEST

START_TEST(test_traced_row_has_components_and_raw_points)
{
	/* Client: send 1000, xmit 3000, rx 40000, recv 45500 (rtt 44.5 us);
	 * server: rx 10000, recv 12000, send 20000, xmit 21000. */
	struct pp_row row = { .index = 1, .ping_seq = 0, .pong_seq = 4000000000u,
			      .rtt_app_ns = 46000, .flags = PP_ROW_RETRANS };
	const char *line;

	row.ts[C_SEND] = 1000, row.ts[C_XMIT] = 3000, row.ts[C_RX] = 40000;
	row.ts[C_RECV] = 45500;
	row.ts[S_RX] = 10000, row.ts[S_RECV] = 12000, row.ts[S_SEND] = 20000;
	row.ts[S_XMIT] = 21000;
	write_rows(&row, 1);
	line = slurp(path) + strlen(header);
	/* rtt 44.5; client_stack 2+5.5; network 37-11=26; server_stack 2+1; server_app 8 */
	ck_assert_str_eq(line, "1,44.500,7.500,26.000,3.000,8.000,,,,,,,,,,,,46.000,1,0,0,4000000000,"
			       "1000,3000,,,40000,,,,,45500,,10000,,,,,12000,20000,21000,\n");
}
END_TEST

/* --sched: the same row with the client's thread woken (rx 40000 < wake 41000, its CPU out of
 * idle at 41500, on it at 43000) and the server's already awake (switched in at 11000, no
 * wake-up since its last recv): each stack = proc + wakeup + return, in their columns. */
START_TEST(test_sched_points_split_each_stack)
{
	struct pp_row row = { .index = 1, .ping_seq = 0, .pong_seq = 4000000000u, .rtt_app_ns = 46000 };
	const char *line;

	row.ts[C_SEND] = 1000, row.ts[C_XMIT] = 3000, row.ts[C_RX] = 40000;
	row.ts[C_WAKE] = 41000, row.ts[C_IDLE] = 41500, row.ts[C_ONCPU] = 43000;
	row.ts[C_RECV] = 45500;
	row.ts[S_RX] = 10000, row.ts[S_ONCPU] = 11000, row.ts[S_RECV] = 12000;
	row.ts[S_SEND] = 20000, row.ts[S_XMIT] = 21000;
	write_rows(&row, 1);
	line = slurp(path) + strlen(header);
	/* client: proc 2+1, wakeup 2 (idle 0.5 of it), return 2.5 = 7.5;
	 * server: proc 0+1, wakeup 1 (no idle), return 1 = 3 */
	ck_assert_str_eq(line, "1,44.500,7.500,26.000,3.000,8.000,,,,"
			       "3.000,2.000,0.500,2.500,1.000,1.000,0.000,1.000,46.000,0,0,0,4000000000,"
			       "1000,3000,,,40000,,41000,41500,43000,45500,"
			       ",10000,,,,11000,12000,20000,21000,\n");
}
END_TEST

START_TEST(test_negative_component_keeps_three_decimals)
{
	/* A network time below zero (server turnaround measured longer than the client's
	 * wait) must print as such, not wrap. */
	struct pp_row row = { .rtt_app_ns = 5 };
	const char *line;

	row.ts[C_XMIT] = 1000, row.ts[C_RX] = 2000;
	row.ts[S_RX] = 0 + 1, row.ts[S_XMIT] = 1 + 1050;
	write_rows(&row, 1);
	line = slurp(path) + strlen(header);
	ck_assert_str_eq(line, "0,,,-0.050,,,,,,,,,,,,,,0.005,0,0,0,0,"
			       ",1000,,,2000,,,,,,,1,,,,,,,1051,\n");
}
END_TEST

START_TEST(test_many_rows_cross_the_buffer)
{
	struct pp_results *r;
	FILE *f;
	char line[1024];
	long lines = 0;

	ck_assert_int_eq(pp_results_open(&r, path), 0);
	for (uint64_t i = 0; i < 5000; i++) {
		struct pp_row row = { .index = i, .rtt_app_ns = (int64_t)(i * 1000 + 1) };

		ck_assert_int_eq(pp_results_write(r, &row), 0);
	}
	ck_assert_int_eq(pp_results_commit(r), 0);
	f = fopen(path, "r");
	while (fgets(line, sizeof(line), f)) {
		if (lines == 4243)
			ck_assert_str_eq(line, "4242,,,,,,,,,,,,,,,,,4242.001,0,0,,,,,,,,,,,,,,,,,,,,,,\n");
		lines++;
	}
	fclose(f);
	ck_assert_int_eq(lines, 5001);
}
END_TEST

START_TEST(test_no_file_until_commit_and_none_after_abort)
{
	struct pp_results *r;
	struct pp_row row = { .rtt_app_ns = 1 };

	ck_assert_int_eq(pp_results_open(&r, path), 0);
	ck_assert_int_eq(pp_results_write(r, &row), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	pp_results_abort(r);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(entries(), 0);
}
END_TEST

START_TEST(test_commit_replaces_an_old_file_whole)
{
	struct pp_row row = { .rtt_app_ns = 1000 };
	FILE *f = fopen(path, "w");

	fputs("old content\n", f);
	fclose(f);
	write_rows(&row, 1);
	ck_assert_str_eq(slurp(path) + strlen(header),
			 "0,,,,,,,,,,,,,,,,,1.000,0,0,,,,,,,,,,,,,,,,,,,,,,\n");
	ck_assert_int_eq(entries(), 1);
}
END_TEST

START_TEST(test_missing_directory_fails_at_open)
{
	struct pp_results *r = (void *)1;

	ck_assert_int_eq(pp_results_open(&r, "/nonexistent-pp-dir/results.csv"), -ENOENT);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(pp_results_open(&r, ""), -EINVAL);
}
END_TEST

/* The temp file's descriptor, found through /proc, so the test can swap /dev/full in. */
static int temp_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char link[PATH_MAX], target[PATH_MAX];
	int found = -1;

	while ((e = readdir(d))) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, path, strlen(path)) == 0 && strstr(target, ".tmp."))
			found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}

START_TEST(test_full_disk_surfaces_as_enospc_and_leaves_no_file)
{
	struct pp_results *r;
	int fd, full, rc = 0;
	uint64_t i;

	ck_assert_int_eq(pp_results_open(&r, path), 0);
	fd = temp_fd();
	ck_assert_int_ge(fd, 0);
	full = open("/dev/full", O_WRONLY);
	ck_assert_int_ge(full, 0);
	ck_assert_int_eq(dup2(full, fd), fd);
	close(full);
	for (i = 0; i < 100000 && rc == 0; i++) {
		struct pp_row row = { .index = i, .rtt_app_ns = 1 };

		rc = pp_results_write(r, &row);
	}
	ck_assert_int_eq(rc, -ENOSPC); /* surfaced by a write, not only at the end */
	ck_assert_int_eq(pp_results_commit(r), -ENOSPC);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(entries(), 0);
}
END_TEST

START_TEST(test_full_disk_at_commit)
{
	struct pp_results *r;
	struct pp_row row = { .rtt_app_ns = 1 };
	int fd, full;

	ck_assert_int_eq(pp_results_open(&r, path), 0);
	ck_assert_int_eq(pp_results_write(r, &row), 0);
	fd = temp_fd();
	full = open("/dev/full", O_WRONLY);
	dup2(full, fd);
	close(full);
	ck_assert_int_eq(pp_results_commit(r), -ENOSPC);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(entries(), 0);
}
END_TEST

/* --turns: four columns ahead, then the very same row as without them. */
START_TEST(test_turns_file_prefixes_four_columns)
{
	struct pp_row row = { .index = 3, .ping_seq = 5, .pong_seq = 6, .rtt_app_ns = -1 };
	struct pp_results *r;
	const char *text;

	row.ts[C_SEND] = 1000, row.ts[C_RECV] = 3500;
	ck_assert_int_eq(pp_results_open_turns(&r, path), 0);
	ck_assert_int_eq(pp_results_write_turn(r, 12, 1, 1048576, &row), 0);
	ck_assert_int_eq(pp_results_commit(r), 0);
	text = slurp(path);
	ck_assert_int_eq(strncmp(text, "conn,index,req_bytes,resp_bytes,", 32), 0);
	ck_assert_int_eq(strncmp(text + 32, header, strlen(header)), 0);
	ck_assert_str_eq(text + 32 + strlen(header),
			 "12,3,1,1048576,3,2.500,,,,,,,,,,,,,,,,,0,0,5,6,"
			 "1000,,,,,,,,,3500,,,,,,,,,,\n");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("results");
	TCase *tc = tcase_create("csv");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_header_names_every_column);
	tcase_add_test(tc, test_untraced_row_has_empty_cells_not_zeros);
	tcase_add_test(tc, test_unknown_rtt_app_is_empty);
	tcase_add_test(tc, test_traced_row_has_components_and_raw_points);
	tcase_add_test(tc, test_sched_points_split_each_stack);
	tcase_add_test(tc, test_negative_component_keeps_three_decimals);
	tcase_add_test(tc, test_many_rows_cross_the_buffer);
	tcase_add_test(tc, test_no_file_until_commit_and_none_after_abort);
	tcase_add_test(tc, test_commit_replaces_an_old_file_whole);
	tcase_add_test(tc, test_missing_directory_fails_at_open);
	tcase_add_test(tc, test_full_disk_surfaces_as_enospc_and_leaves_no_file);
	tcase_add_test(tc, test_full_disk_at_commit);
	tcase_add_test(tc, test_turns_file_prefixes_four_columns);
	suite_add_tcase(s, tc);
	return s;
}

PP_CHECK_MAIN(suite)

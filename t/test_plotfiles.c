// SPDX-License-Identifier: MIT
/* The files stack.gp reads: four parts named as before --sched, ten with plain legend words and
 * shades of each host's colour; every component, the --sched ones too, has a name -c takes and a
 * colour the CDF draws it in. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plot/plotfiles.h"
#include "plot/samples.h"
#include "check_main.h"

static char dir[64];
static char text[8192];

static void make_dir(void)
{
	strcpy(dir, "/tmp/test_plotfiles.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static const char *read_back(const char *name)
{
	char path[128];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	unlink(path);
	return text;
}

/* The value of a params.gp line "var = ...", without the newline. */
static const char *param(const char *params, const char *var, char *out, size_t len)
{
	char start[64];
	const char *p, *end;

	snprintf(start, sizeof(start), "\n%s = ", var);
	p = strstr(params, start);
	ck_assert_msg(p != NULL, "no %s in params.gp", var);
	p += strlen(start);
	end = strchr(p, '\n');
	ck_assert_ptr_nonnull(end);
	ck_assert_uint_lt((size_t)(end - p), len);
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return out;
}

static void write_files(const struct pp_stack_parts *sp, struct pp_stack_bar *bar, size_t nbar)
{
	static const double pct[] = { 50, 99 };
	struct pp_plot_opts o = {
		.term = "png", .output = "/dev/null", .title = "t", .pct = pct, .npct = 2,
	};

	for (size_t i = 0; i < nbar; i++) {
		bar[i].pct = pct[i];
		bar[i].rows = 3;
		bar[i].nparts = sp->n;
		bar[i].rtt_us = bar[i].rtt_mean_us = 0;
		for (size_t p = 0; p < sp->n; p++) {
			bar[i].part_us[p] = 1.5 * (double)(p + 1);
			bar[i].rtt_mean_us += bar[i].part_us[p];
		}
		bar[i].rtt_us = bar[i].rtt_mean_us;
	}
	make_dir();
	ck_assert_int_eq(pp_write_stack_files(dir, sp, bar, nbar, &o), 0);
}

START_TEST(test_components_have_names_and_colours)
{
	for (int c = 0; c < PP_NCOMPONENTS; c++) {
		const char *color = pp_component_color((enum pp_component)c);
		char with_us[64];

		ck_assert_msg(color && strlen(color) == 7 && color[0] == '#', "component %d", c);
		ck_assert_int_eq(pp_component_by_name(pp_component_name[c]), c);
		snprintf(with_us, sizeof(with_us), "%s_us", pp_component_name[c]);
		ck_assert_int_eq(pp_component_by_name(with_us), c);
		for (int d = 0; d < c; d++)
			ck_assert_msg(strcmp(color, pp_component_color((enum pp_component)d)) != 0,
				      "%s and %s share a colour", pp_component_name[c], pp_component_name[d]);
	}
	ck_assert_int_eq(pp_component_by_name("client_idle"), PP_CLIENT_IDLE);
	ck_assert_int_eq(pp_component_by_name("server_return_us"), PP_SERVER_RETURN);
}
END_TEST

/* Without --sched: the parts, keys and colours of before, white labels on every part. */
START_TEST(test_four_parts_as_before)
{
	static const double col_v[1] = { 1 };
	const double *col[PP_NCOMPONENTS] = { 0 };
	struct pp_stack_bar bar[2];
	struct pp_stack_parts sp;
	char buf[512];
	const char *params;

	col[PP_RTT] = col[PP_CLIENT_STACK] = col[PP_NETWORK] = col[PP_SERVER_STACK] = col_v;
	col[PP_SERVER_APP] = col_v;
	ck_assert_int_eq(pp_stack_parts_choose(&sp, col, 1), 0);
	write_files(&sp, bar, 2);
	params = read_back("params.gp");
	ck_assert_str_eq(param(params, "nparts", buf, sizeof(buf)), "4");
	ck_assert_str_eq(param(params, "part_names", buf, sizeof(buf)),
			 "'client_stack network server_stack server_app'");
	ck_assert_str_eq(param(params, "part_keys", buf, sizeof(buf)),
			 "'client\\_stack network server\\_stack server\\_app'");
	ck_assert_str_eq(param(params, "part_colors", buf, sizeof(buf)),
			 "'#1f77b4 #ff7f0e #2ca02c #d62728'");
	ck_assert_str_eq(param(params, "part_label_colors", buf, sizeof(buf)),
			 "'#ffffff #ffffff #ffffff #ffffff'");
	ck_assert_str_eq(param(params, "key_order", buf, sizeof(buf)), "'4 3 2 1'");
	ck_assert_str_eq(read_back("stack.dat"),
			 "# label client_stack network server_stack server_app rtt_percentile rtt_mean_of_rows rows\n"
			 "p50 1.500000 3.000000 4.500000 6.000000 15.000000 15.000000 3\n"
			 "p99 1.500000 3.000000 4.500000 6.000000 15.000000 15.000000 3\n");
	pp_stack_parts_free(&sp);
	rmdir(dir);
}
END_TEST

/* The channel that dominates a colour: a host's shades keep its stack colour's (blue for the
 * client, green for the server). */
static int dominant(const char *color)
{
	unsigned rgb[3];

	ck_assert_int_eq(sscanf(color, "#%2x%2x%2x", &rgb[0], &rgb[1], &rgb[2]), 3);
	return rgb[2] >= rgb[0] && rgb[2] >= rgb[1] ? 2 : rgb[1] >= rgb[0] ? 1 : 0;
}

/* Both hosts split: ten parts, plain quoted legend words, each host's parts in shades of its
 * colour, dark labels on the light ones, ten values a row. */
START_TEST(test_ten_parts_plain_keys_and_shades)
{
	static const double col_v[1] = { 1 };
	const double *col[PP_NCOMPONENTS];
	struct pp_stack_bar bar[2];
	struct pp_stack_parts sp;
	char buf[1024], *save = NULL, *word;
	const char *params, *data;
	int n = 0;

	for (int c = 0; c < PP_NCOMPONENTS; c++)
		col[c] = col_v;
	ck_assert_int_eq(pp_stack_parts_choose(&sp, col, 1), 0);
	ck_assert_uint_eq(sp.n, 10);
	write_files(&sp, bar, 2);
	params = read_back("params.gp");
	ck_assert_str_eq(param(params, "nparts", buf, sizeof(buf)), "10");
	ck_assert_str_eq(param(params, "part_keys", buf, sizeof(buf)),
			 "'\"client: stack processing\" \"client: waiting for CPU\" "
			 "\"client: CPU leaving idle\" \"client: return to program\" \"network\" "
			 "\"server: stack processing\" \"server: waiting for CPU\" "
			 "\"server: CPU leaving idle\" \"server: return to program\" "
			 "\"server: application\"'");
	/* under the plots, four rows: client's column, server's, then server app and network */
	ck_assert_str_eq(param(params, "key_order", buf, sizeof(buf)), "'4 3 2 1 9 8 7 6 10 5'");
	param(params, "part_colors", buf, sizeof(buf));
	for (word = strtok_r(buf + 1, " '", &save); word; word = strtok_r(NULL, " '", &save), n++) {
		ck_assert_str_eq(word, pp_stack_part_color(sp.part[n]));
		if (n < 4)
			ck_assert_int_eq(dominant(word), dominant(pp_component_color(PP_CLIENT_STACK)));
		else if (n >= 5 && n < 9)
			ck_assert_int_eq(dominant(word), dominant(pp_component_color(PP_SERVER_STACK)));
	}
	ck_assert_int_eq(n, 10);
	/* the wait is drawn in the wake-up's colour, the idle exit in a lighter one with dark text */
	ck_assert_str_eq(pp_stack_part_color(PP_PART_CLIENT_WAIT), pp_component_color(PP_CLIENT_WAKEUP));
	param(params, "part_label_colors", buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "#202020"));
	ck_assert_ptr_nonnull(strstr(buf, "#ffffff"));
	data = read_back("stack.dat");
	ck_assert_ptr_nonnull(strstr(data, "# label client_proc client_wait client_idle client_return network "
					   "server_proc server_wait server_idle server_return server_app "
					   "rtt_percentile"));
	ck_assert_ptr_nonnull(strstr(data, "\np99 1.500000 3.000000 4.500000 6.000000 7.500000 9.000000 "
					   "10.500000 12.000000 13.500000 15.000000 82.500000 82.500000 3\n"));
	pp_stack_parts_free(&sp);
	rmdir(dir);
}
END_TEST

/* Only the client split: its column, then server app, the server's whole stack and network. */
START_TEST(test_one_host_split_key)
{
	static const double col_v[1] = { 1 };
	const double *col[PP_NCOMPONENTS] = { 0 };
	struct pp_stack_bar bar[2];
	struct pp_stack_parts sp;
	char buf[512];
	const char *params;

	for (int c = 0; c <= PP_CLIENT_RETURN; c++)
		col[c] = col_v;
	ck_assert_int_eq(pp_stack_parts_choose(&sp, col, 1), 0);
	ck_assert_uint_eq(sp.n, 7);
	write_files(&sp, bar, 2);
	params = read_back("params.gp");
	ck_assert_str_eq(param(params, "key_order", buf, sizeof(buf)), "'4 3 2 1 7 6 5'");
	ck_assert_str_eq(param(params, "part_keys", buf, sizeof(buf)),
			 "'\"client: stack processing\" \"client: waiting for CPU\" "
			 "\"client: CPU leaving idle\" \"client: return to program\" \"network\" "
			 "\"server: stack\" \"server: application\"'");
	unlink(strcat(strcpy(buf, dir), "/stack.dat"));
	pp_stack_parts_free(&sp);
	rmdir(dir);
}
END_TEST

PP_CHECK_TESTS("plotfiles", 0,
	       test_components_have_names_and_colours,
	       test_four_parts_as_before,
	       test_ten_parts_plain_keys_and_shades,
	       test_one_host_split_key)

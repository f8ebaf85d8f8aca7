// SPDX-License-Identifier: MIT
/* The probe's own cost (collect/bpf_cost.h): the kernel's run-time statistics of every loaded
 * program, read twice and subtracted. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/bpf_cost.h"

int pp_bpf_cost_snapshot(struct bpf_object *obj, bool counting, struct pp_bpf_cost *c)
{
	struct bpf_program *prog;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->known = counting;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);
		struct pp_bpf_prog_cost *p;

		if (fd < 0 || !bpf_program__autoload(prog))
			continue; /* not loaded: nothing ran */
		if (c->n == PP_BPF_COST_MAX_PROGS)
			break;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
			if (!rc)
				rc = -errno;
			continue;
		}
		p = &c->prog[c->n++];
		snprintf(p->name, sizeof(p->name), "%s", bpf_program__name(prog));
		p->run_ns = info.run_time_ns;
		p->runs = info.run_cnt;
		c->run_ns += p->run_ns;
		c->runs += p->runs;
	}
	return rc;
}

static const struct pp_bpf_prog_cost *find(const struct pp_bpf_cost *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->prog[i].name, name))
			return &c->prog[i];
	return NULL;
}

void pp_bpf_cost_delta(const struct pp_bpf_cost *from, const struct pp_bpf_cost *to,
		       struct pp_bpf_cost *d)
{
	struct pp_bpf_cost out = { .known = from->known && to->known };

	for (size_t i = 0; i < to->n && out.n < PP_BPF_COST_MAX_PROGS; i++) {
		const struct pp_bpf_prog_cost *b = &to->prog[i], *a = find(from, b->name);
		struct pp_bpf_prog_cost *p = &out.prog[out.n++];

		*p = *b;
		if (a) {
			p->run_ns = b->run_ns >= a->run_ns ? b->run_ns - a->run_ns : 0;
			p->runs = b->runs >= a->runs ? b->runs - a->runs : 0;
		}
		out.run_ns += p->run_ns;
		out.runs += p->runs;
	}
	*d = out; /* d may be from or to */
}

bool pp_bpf_cost_per(uint64_t ns, uint64_t n, double *out)
{
	*out = n ? (double)ns / (double)n : 0.0;
	return n != 0;
}

int pp_bpf_cost_format(char *buf, size_t size, bool known, uint64_t run_ns, uint64_t runs,
		       uint64_t exchanges)
{
	double per, runs_per;

	if (!known)
		return snprintf(buf, size, "unknown");
	if (!pp_bpf_cost_per(run_ns, exchanges, &per))
		return snprintf(buf, size, "%.3f ms of BPF in %" PRIu64 " runs",
				(double)run_ns / 1e6, runs);
	pp_bpf_cost_per(runs, exchanges, &runs_per);
	return snprintf(buf, size, "%.3f us of BPF per exchange (%.1f runs, %.3f ms in %" PRIu64
			" runs)", per / 1e3, runs_per, (double)run_ns / 1e6, runs);
}

int pp_bpf_cost_format_prog(char *buf, size_t size, const struct pp_bpf_prog_cost *p)
{
	double per;

	if (!pp_bpf_cost_per(p->run_ns, p->runs, &per))
		return snprintf(buf, size, "%s: not run", p->name);
	return snprintf(buf, size, "%s: %" PRIu64 " runs, %.1f ns per run", p->name, p->runs, per);
}

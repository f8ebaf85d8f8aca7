// SPDX-License-Identifier: MIT
/* The embedded BPF object stays within what the design allows: stable tracepoints only, in
 * classic mode, and in raw mode for the packet and socket points (see kern/pingpong.bpf.c: raw mode
 * is not blocked by the classic programs' shared recursion guard); no kprobe, fentry/fexit,
 * tp_btf; a perf event array and no ring buffer. Read from the skeleton's own bytes, so what
 * is checked is what ships; no root needed to open it. */
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "pingpong.h"
#include "pingpong.skel.h"
#include "check_main.h"

static struct bpf_object *open_embedded(void)
{
	size_t size;
	const void *bytes = pingpong_bpf__elf_bytes(&size);
	struct bpf_object *obj;

	libbpf_set_print(NULL); /* opening without a kernel is expected to be quiet */
	obj = bpf_object__open_mem(bytes, size, NULL);

	ck_assert_ptr_nonnull(obj);
	return obj;
}

/* The packet, socket and scheduler points, the programs attached in raw mode, and the flush
 * program (raw_tp with no tracepoint: never attached, run by BPF_PROG_TEST_RUN). */
static const char *const raw_sections[] = {
	"raw_tp/net_dev_queue", "raw_tp/netif_receive_skb", "raw_tp/tcp_probe",
	"raw_tp/tcp_sendmsg_locked", "raw_tp/sock_recv_length", "raw_tp/sched_waking",
	"raw_tp/sched_switch", "raw_tp/cpu_idle", "raw_tp",
};

static bool is_raw_packet_point(const char *sec)
{
	for (size_t i = 0; i < sizeof(raw_sections) / sizeof(raw_sections[0]); i++)
		if (strcmp(sec, raw_sections[i]) == 0)
			return true;
	return false;
}

START_TEST(test_every_program_is_a_stable_tracepoint)
{
	struct bpf_object *obj = open_embedded();
	struct bpf_program *prog;
	int n = 0, raw = 0;

	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);

		if (is_raw_packet_point(sec)) {
			ck_assert_int_eq(bpf_program__type(prog), BPF_PROG_TYPE_RAW_TRACEPOINT);
			raw++;
		} else {
			ck_assert_msg(strncmp(sec, "tracepoint/", 11) == 0, "program section %s", sec);
			ck_assert_int_eq(bpf_program__type(prog), BPF_PROG_TYPE_TRACEPOINT);
		}
		n++;
	}
	ck_assert_int_eq(raw, 9);
	ck_assert_int_ge(n, 25); /* 16 syscall points, send, recv, flush, xmit, rx, tcp, 3 sched (+ fork/exit) */
	bpf_object__close(obj);
}
END_TEST

START_TEST(test_events_leave_through_a_perf_event_array_not_a_ring_buffer)
{
	struct bpf_object *obj = open_embedded();
	struct bpf_map *map;
	int perf_arrays = 0;

	bpf_object__for_each_map(map, obj) {
		enum bpf_map_type type = bpf_map__type(map);

		ck_assert_msg(type != BPF_MAP_TYPE_RINGBUF, "ring buffer map %s", bpf_map__name(map));
		ck_assert_msg(type != BPF_MAP_TYPE_USER_RINGBUF, "user ring buffer map %s", bpf_map__name(map));
		perf_arrays += type == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
	}
	ck_assert_int_eq(perf_arrays, 1);
	bpf_object__close(obj);
}
END_TEST

/* The raw ELF too: no executable section may carry a forbidden attach type in its name. */
START_TEST(test_no_code_section_names_another_attach_type)
{
	static const char *const forbidden[] = {
		"kprobe", "kretprobe", "fentry", "fexit", "fmod_ret", "tp_btf", "raw_tracepoint",
		"uprobe", "tracing", "lsm", "iter",
	};
	size_t size, shstrndx;
	const void *bytes = pingpong_bpf__elf_bytes(&size);
	Elf *elf;
	Elf_Scn *scn = NULL;
	int code_sections = 0;

	ck_assert_int_ne(elf_version(EV_CURRENT), EV_NONE);
	elf = elf_memory((char *)bytes, size);
	ck_assert_ptr_nonnull(elf);
	ck_assert_int_eq(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		const char *name;

		ck_assert_ptr_nonnull(gelf_getshdr(scn, &shdr));
		name = elf_strptr(elf, shstrndx, shdr.sh_name);
		for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
			ck_assert_msg(strncmp(name, forbidden[i], strlen(forbidden[i])) != 0, "section %s", name);
		if (shdr.sh_type == SHT_PROGBITS && (shdr.sh_flags & SHF_EXECINSTR) && shdr.sh_size) {
			ck_assert_msg(strncmp(name, "tracepoint/", 11) == 0 || is_raw_packet_point(name),
				      "code section %s", name);
			code_sections++;
		}
	}
	ck_assert_int_ge(code_sections, 22);
	elf_end(elf);
}
END_TEST

/* The connection filter (pp_trace_set_flow) is a one-element array holding the struct the
 * header defines: user space writes it by that layout while the programs run. */
START_TEST(test_the_flow_filter_is_one_array_element_of_the_shared_struct)
{
	struct bpf_object *obj = open_embedded();
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "pp_flow_filter");

	ck_assert_ptr_nonnull(map);
	ck_assert_int_eq(bpf_map__type(map), BPF_MAP_TYPE_ARRAY);
	ck_assert_uint_eq(bpf_map__max_entries(map), 1);
	ck_assert_uint_eq(bpf_map__key_size(map), sizeof(__u32));
	ck_assert_uint_eq(bpf_map__value_size(map), sizeof(struct pp_flow_filter));
	bpf_object__close(obj);
}
END_TEST

PP_CHECK_TESTS("bpf_sections", 0,
	       test_every_program_is_a_stable_tracepoint,
	       test_events_leave_through_a_perf_event_array_not_a_ring_buffer,
	       test_no_code_section_names_another_attach_type,
	       test_the_flow_filter_is_one_array_element_of_the_shared_struct)

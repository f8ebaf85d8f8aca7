/* PLACEHOLDER until the tracer lands: maps only. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pingpong.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("tracepoint/net/net_dev_queue")
int on_net_dev_queue(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

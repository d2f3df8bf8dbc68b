// SPDX-License-Identifier: GPL-2.0
// libbpf-style socket filters: one reads the packet through bpf_skb_load_bytes and the
// classic-BPF-style packet loads (LD_ABS via __builtin_bpf_load_byte/half), counting IP
// protocols in an array map; one accepts only TCP to a port held in .data.
//
// Build: clang -O2 -g -target bpf -I<dir of vmlinux.h> -c socket_filter.c
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} protocols SEC(".maps");

__u16 wanted_port = 22; /* .data */

SEC("socket")
int count_protocols(struct __sk_buff *skb)
{
	__u32 proto;
	__u64 *n;

	if (load_half(skb, 12) != 0x0800)
		return 0;
	proto = load_byte(skb, 14 + 9);
	n = bpf_map_lookup_elem(&protocols, &proto);
	if (n)
		__sync_fetch_and_add(n, skb->len);
	return skb->len;
}

SEC("socket")
int tcp_port_only(struct __sk_buff *skb)
{
	struct iphdr ip;
	__u16 port;

	if (skb->protocol != bpf_htons(0x0800))
		return 0;
	if (bpf_skb_load_bytes(skb, 14, &ip, sizeof(ip)) < 0)
		return 0;
	if (ip.protocol != 6)
		return 0;
	if (bpf_skb_load_bytes(skb, 14 + ip.ihl * 4 + 2, &port, sizeof(port)) < 0)
		return 0;
	return bpf_ntohs(port) == wanted_port ? -1 : 0;
}

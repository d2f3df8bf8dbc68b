// SPDX-License-Identifier: GPL-2.0
// A libbpf-style XDP program with BTF-defined maps only (no legacy 'maps' section): it parses
// Ethernet/IPv4/IPv6 headers with the bounds checks the verifier demands, drops sources listed
// in a hash map, counts verdicts per CPU, and redirects through a devmap. Configuration lives in
// .rodata; a static subprogram does the counting. A second program (xdp.frags) reads the packet
// length only, and a third (xdp/devmap) runs on redirected frames.
//
// Build: clang -O2 -g -target bpf -I<dir of vmlinux.h> -c xdp_filter.c
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 5); /* XDP_ABORTED .. XDP_REDIRECT */
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);   /* IPv4 source address */
	__type(value, __u64); /* packets dropped */
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} ports SEC(".maps");

const volatile __u32 redirect_port = 0;
const volatile __u8 drop_ipv6 = 1;

static __noinline int count(__u32 verdict)
{
	__u64 *n = bpf_map_lookup_elem(&verdicts, &verdict);

	if (n)
		*n += 1;
	return verdict;
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 *hits;

	if ((void *)(eth + 1) > data_end)
		return count(XDP_ABORTED);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return count(drop_ipv6 ? XDP_DROP : XDP_PASS);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return count(XDP_PASS);

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return count(XDP_ABORTED);
	if (ip->ihl < 5)
		return count(XDP_DROP);

	__u32 saddr = ip->saddr;
	hits = bpf_map_lookup_elem(&blocked, &saddr);
	if (hits) {
		__sync_fetch_and_add(hits, 1);
		return count(XDP_DROP);
	}
	if (ip->protocol == 17 /* UDP */) {
		struct udphdr *udp = (void *)ip + ip->ihl * 4;
		if ((void *)(udp + 1) > data_end)
			return count(XDP_ABORTED);
		if (udp->dest == bpf_htons(53) && redirect_port)
			return bpf_redirect_map(&ports, redirect_port, XDP_PASS);
	}
	return count(XDP_PASS);
}

SEC("xdp.frags")
int xdp_len(struct xdp_md *ctx)
{
	__u64 len = bpf_xdp_get_buff_len(ctx);

	return count(len > 9000 ? XDP_DROP : XDP_PASS);
}

SEC("xdp/devmap")
int xdp_on_port(struct xdp_md *ctx)
{
	return ctx->egress_ifindex ? XDP_PASS : XDP_DROP;
}

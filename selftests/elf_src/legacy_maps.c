// SPDX-License-Identifier: GPL-2.0
// Pre-BTF style: maps defined as struct bpf_map_def in the legacy "maps" section (what
// iproute2 and libbpf before 1.0 read), a tc classifier and a cgroup_skb program using them.
// libbpf 1.0 and later refuse this section; the importer still reads it.
//
// Build: clang -O2 -target bpf -I<dir of vmlinux.h> -c legacy_maps.c   (no -g: the object has no BTF)
// elf_build: no-btf
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct legacy_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct legacy_map_def SEC("maps") bytes_by_mark = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 1024,
};

struct legacy_map_def SEC("maps") totals = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 2,
};

SEC("classifier")
int tc_account(struct __sk_buff *skb)
{
	__u32 mark = skb->mark;
	__u64 len = skb->len, *v;

	v = bpf_map_lookup_elem(&bytes_by_mark, &mark);
	if (v)
		__sync_fetch_and_add(v, len);
	else
		bpf_map_update_elem(&bytes_by_mark, &mark, &len, BPF_NOEXIST);
	return 0; /* TC_ACT_OK */
}

SEC("cgroup_skb/egress")
int cg_egress(struct __sk_buff *skb)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&totals, &k);

	if (v)
		*v += skb->len;
	return 1;
}

# name: tc_skb_load_bytes_relative
# prog_type: sched_cls
# tags: helper, stack
# expect: accept
# description: bpf_skb_load_bytes_relative reads 20 bytes of the network header
# description: (BPF_HDR_START_NET) into an uninitialized stack buffer
r2 = 0
r3 = r10
r3 += -24
r4 = 20
r5 = 1
call bpf_skb_load_bytes_relative#68
r0 = *(u8 *)(r10 -15)
r0 = 0
exit

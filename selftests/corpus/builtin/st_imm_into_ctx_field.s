# name: st_imm_into_ctx_field
# prog_type: sched_cls
# tags: ctx, memory
# expect: accept
# description: a store-immediate (BPF_ST) into a writable context field
# description: (skb->mark), not only a register store (BPF_STX)
*(u32 *)(r1 +8) = 1
r0 = 0
exit

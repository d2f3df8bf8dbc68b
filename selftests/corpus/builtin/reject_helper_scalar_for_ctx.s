# name: reject_helper_scalar_for_ctx
# prog_type: sched_cls
# tags: helper
# expect: reject
# expect_message: R1 type=scalar expected=ctx
# description: bpf_get_hash_recalc expects the context in R1, given a scalar
r1 = 0
call bpf_get_hash_recalc#34
r0 = 0
exit

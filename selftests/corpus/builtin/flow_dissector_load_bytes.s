# name: flow_dissector_load_bytes
# prog_type: flow_dissector
# attach_type: flow_dissector
# tags: helper, stack
# expect: accept
# description: a flow dissector copies the first 16 bytes of the packet onto the
# description: stack with bpf_skb_load_bytes
r2 = 0
r3 = r10
r3 += -16
r4 = 16
call bpf_skb_load_bytes#26
r0 = 0
exit

# name: reject_stack_var_offset_oob
# prog_type: socket_filter
# tags: stack, memory
# expect: reject
# expect_message: invalid variable-offset write to stack R2 var_off=(0xfffffffffffffc00; 0x3ff) off=0 size=1
# description: a variable stack offset in [-520, -9]: its lowest value is below
# description: the 512-byte frame
r1 = *(u32 *)(r1 +0)
r1 &= 511
r1 -= 520
r2 = r10
r2 += r1
*(u8 *)(r2 +0) = 0
r0 = 0
exit

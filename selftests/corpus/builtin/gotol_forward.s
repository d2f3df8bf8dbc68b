# name: gotol_forward
# prog_type: socket_filter
# tags: branch
# expect: accept
# description: the 32-bit-offset unconditional jump (gotol, cpu v4) joining two
# description: paths
r0 = 1
r2 = *(u32 *)(r1 +0)
if r2 == 0x0 goto other
gotol skip
other:
r0 = 0
skip:
exit

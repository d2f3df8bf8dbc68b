# name: bounded_loop
# prog_type: socket_filter
# tags: loop, branch
# expect: accept
# description: two bounded loops: a constant count of 10, and a count taken
# description: from the packet length masked to 0..15
r6 = r1
r0 = 0
r1 = 0
loop1:
r0 += r1
r1 += 1
if r1 < 0xa goto loop1
r2 = *(u32 *)(r6 +0)
r2 &= 15
r1 = 0
loop2:
if r1 >= r2 goto done
r0 += 3
r1 += 1
goto loop2
done:
exit

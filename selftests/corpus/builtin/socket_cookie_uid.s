# name: socket_cookie_uid
# prog_type: socket_filter
# tags: helper
# expect: accept
# description: bpf_get_socket_cookie and bpf_get_socket_uid in a socket filter
r6 = r1
call bpf_get_socket_cookie#46
r7 = r0
r1 = r6
call bpf_get_socket_uid#47
r0 += r7
r0 &= 1
exit

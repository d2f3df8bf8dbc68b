# name: reject_ptr_add_ptr
# prog_type: socket_filter
# tags: alu, memory
# expect: reject
# expect_message: R2 pointer += pointer prohibited
# description: adding two pointers (stack plus context) is prohibited
r2 = r10
r2 += r1
r0 = 0
exit

# name: reject_map_ptr_arith
# prog_type: socket_filter
# tags: alu, map
# expect: reject
# expect_message: R1 pointer arithmetic on map_ptr prohibited
# map: vals type=array key=4 value=8 entries=1
# description: arithmetic on the map pointer itself (not on a value pointer)
r1 = map[vals]
r1 += 8
r0 = 0
exit

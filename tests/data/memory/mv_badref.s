# name: mv_badref
# prog_type: socket_filter
# map: a type=array key=4 value=16 entries=1
# description: a direct map value reference past the end of the value is refused before exploration
r0 = 0
r1 = map_value[a]+8
r1 = map_value[a]+16
exit

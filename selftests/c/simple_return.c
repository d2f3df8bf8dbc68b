// prog_type: socket_filter
// tags: alu
// description: the smallest useful program: keep every packet whole
//
// A socket filter returns how many bytes of the packet to keep; -1 keeps all.

int simple_return(struct __sk_buff *skb)
{
    return -1;
}

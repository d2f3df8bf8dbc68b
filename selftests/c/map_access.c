// prog_type: sched_cls
// tags: map, helper, ctx, branch, atomic
// description: counts packets and bytes per protocol in a hash map, and the total
// description: in an array map: lookup, NULL check, update of a new entry
//
// The lookup result may be NULL: the verifier insists on the check before use.

struct counters {
    u64 packets;
    u64 bytes;
};

BPF_HASH(per_proto, u32, struct counters, 256);
BPF_ARRAY(totals, u64, 2);

int map_access(struct __sk_buff *skb)
{
    u32 proto = skb->protocol;
    struct counters *c = per_proto.lookup(&proto);
    if (c) {
        c->packets += 1;
        c->bytes += skb->len;
    } else {
        struct counters init = {1, skb->len};
        per_proto.update(&proto, &init);
    }

    u32 idx = skb->len > 1000 ? 1 : 0;
    u64 *t = totals.lookup(&idx);
    if (t)
        __sync_fetch_and_add(t, 1);
    return 0;
}

/* Maps of every supported type, used from one timer program. */
#include "axiom_bpf.h"

BPF_MAP_DEF(counts, BPF_MAP_TYPE_HASH, sizeof(__u32), sizeof(__u64), 16);
BPF_MAP_DEF(slots, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u64), 4);
BPF_RINGBUF_DEF(events, 4096);
BPF_MAP_DEF(series, BPF_MAP_TYPE_TIMESERIES, sizeof(__u64), sizeof(__u64), 8);

SEC("timer") int use_all(struct bpf_context *ctx)
{
    __u32 key = 7;
    __u64 one = 1;
    __u64 *n = bpf_map_lookup_elem(&counts, &key);
    if (n)
        *n += 1;
    else
        bpf_map_update_elem(&counts, &key, &one, BPF_ANY);

    __u32 idx = 2;
    __u64 *slot = bpf_map_lookup_elem(&slots, &idx);
    if (!slot)
        return 1;
    *slot += 10;

    __u64 ts = bpf_ktime_get_ns();
    __u64 v = *slot;
    bpf_timeseries_push(&series, &ts, &v);
    bpf_ringbuf_output(&events, &v, sizeof(v), 0);
    return 0;
}

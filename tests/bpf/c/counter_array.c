#include "bpf_helpers.h"

/* Map 0: array, key 4, value 8 (ids given as plain integers). */
SEC("timer") int count_ticks(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(MAP_ID(0), &key);
    if (!v)
        return 0;
    __sync_fetch_and_add(v, 1);
    return 0;
}

SEC("timer") int count_plain(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(MAP_ID(0), &key);
    if (v)
        *v += 1;
    return 0;
}

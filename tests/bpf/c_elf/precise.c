/* What clang emits for everyday code that Linux accepts (issue 9). */
#include "axiom_bpf.h"

BPF_MAP_DEF(counts, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u64), 4);
BPF_MAP_DEF(table, BPF_MAP_TYPE_ARRAY, sizeof(__u32), 48, 1);

/* A constant in-range key: the lookup cannot fail, no NULL check needed. */
SEC("timer") int const_key(struct bpf_context *ctx)
{
    __u32 key = 3;
    __u64 *v = bpf_map_lookup_elem(&counts, &key);
    return (int)*v;
}

/* An `int` index checked with signed 32-bit compares, then used on a u32 array. */
SEC("timer") int int_index(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u32 *row = bpf_map_lookup_elem(&table, &key);
    if (!row)
        return 0;
    int i = (int)bpf_get_prandom_u32();
    if (i < 0 || i > 11)
        return 0;
    return (int)row[i];
}

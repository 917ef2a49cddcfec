/* The second program dereferences a hash lookup result without a NULL check. */
#include "axiom_bpf.h"

BPF_MAP_DEF(values, BPF_MAP_TYPE_HASH, sizeof(__u32), sizeof(__u64), 1);

SEC("timer") int fine(struct bpf_context *ctx) { return 0; }

SEC("timer") int no_null_check(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(&values, &key);
    return (int)*v;
}

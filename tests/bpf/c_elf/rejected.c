/* The second program dereferences a lookup result without a NULL check (key 1 is
 * outside the 1-entry array: with an in-range constant key the lookup could not
 * fail and the verifier would accept it, as Linux >= 6.13 does). */
#include "axiom_bpf.h"

BPF_MAP_DEF(values, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u64), 1);

SEC("timer") int fine(struct bpf_context *ctx) { return 0; }

SEC("timer") int no_null_check(struct bpf_context *ctx)
{
    __u32 key = 1;
    __u64 *v = bpf_map_lookup_elem(&values, &key);
    return (int)*v;
}

/* running_max.bpf.c: the verifier benchmark of issue 9 -- scan the 64 slots of an
 * array map and keep a running maximum, as a developer writes it (a real loop, not
 * unrolled). Linux 6.18 accepts it after processing 2 860 instructions. */
#include "axiom_bpf.h"

BPF_MAP_DEF(slots, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u64), 64);

SEC("timer") int running_max(struct bpf_context *ctx)
{
    __u64 max = 0;
#pragma clang loop unroll(disable)
    for (__u32 i = 0; i < 64; i++) {
        __u64 *v = bpf_map_lookup_elem(&slots, &i);
        if (v && *v > max)
            max = *v;
    }
    return (int)max;
}

/* Eight 64 MiB arrays of one-byte values (2^26 entries each): inspecting this object
 * must not allocate their storage (bpf-inspect regression). */
#include "axiom_bpf.h"

BPF_MAP_DEF(big0, BPF_MAP_TYPE_ARRAY, sizeof(__u32), 1, 1 << 26);
BPF_MAP_DEF(big1, BPF_MAP_TYPE_ARRAY, sizeof(__u32), 1, 1 << 26);
BPF_MAP_DEF(big2, BPF_MAP_TYPE_ARRAY, sizeof(__u32), 1, 1 << 26);
BPF_MAP_DEF(big3, BPF_MAP_TYPE_ARRAY, sizeof(__u32), 1, 1 << 26);
BPF_MAP_DEF(big4, BPF_MAP_TYPE_ARRAY, sizeof(__u32), 1, 1 << 26);
BPF_MAP_DEF(big5, BPF_MAP_TYPE_ARRAY, sizeof(__u32), 1, 1 << 26);
BPF_MAP_DEF(big6, BPF_MAP_TYPE_ARRAY, sizeof(__u32), 1, 1 << 26);
BPF_MAP_DEF(big7, BPF_MAP_TYPE_ARRAY, sizeof(__u32), 1, 1 << 26);

SEC("timer") int touch(struct bpf_context *ctx)
{
    __u32 key = 5;
    __u8 *v = bpf_map_lookup_elem(&big7, &key);
    if (v)
        *v += 1;
    return 0;
}

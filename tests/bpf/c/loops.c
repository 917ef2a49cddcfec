#include "bpf_helpers.h"

/* Map 0: array of 16 __u64 counters (key 4, value 8, 16 entries);
   map 2: array with one 128-byte value. */

SEC("timer") int sum_unrolled(struct bpf_context *ctx)
{
    __u64 sum = 0;
#pragma unroll
    for (int i = 0; i < 16; i++) {
        __u32 key = i;
        __u64 *v = bpf_map_lookup_elem(MAP_ID(0), &key);
        if (v)
            sum += *v;
    }
    return (int)sum;
}

SEC("timer") int sum_loop(struct bpf_context *ctx)
{
    __u64 sum = 0;
#pragma clang loop unroll(disable)
    for (int i = 0; i < 16; i++) {
        __u32 key = i;
        __u64 *v = bpf_map_lookup_elem(MAP_ID(0), &key);
        if (v)
            sum += *v;
    }
    return (int)sum;
}

/* A loop indexing into a map value with the induction variable. */
SEC("timer") int fill_value(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u8 *v = bpf_map_lookup_elem(MAP_ID(2), &key);
    if (!v)
        return 0;
#pragma clang loop unroll(disable)
    for (int i = 0; i < 128; i++)
        v[i] = (__u8)i;
    return 1;
}

/* A stack buffer filled in a loop, then handed to a helper. */
SEC("timer") int stack_buf(struct bpf_context *ctx)
{
    char buf[32];
#pragma clang loop unroll(disable)
    for (int i = 0; i < 32; i++)
        buf[i] = 'a' + (i % 26);
    buf[31] = 0;
    bpf_trace_printk(buf, sizeof(buf));
    return 0;
}

/* Loop whose bound comes from a map value, clamped. */
SEC("timer") int clamped_loop(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u64 *n = bpf_map_lookup_elem(MAP_ID(0), &key);
    if (!n)
        return 0;
    __u64 lim = *n;
    if (lim > 10)
        lim = 10;
    __u64 acc = 0;
#pragma clang loop unroll(disable)
    for (__u64 i = 0; i < lim; i++)
        acc += i * 3;
    return (int)acc;
}

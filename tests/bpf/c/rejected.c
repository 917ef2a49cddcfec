#include "bpf_helpers.h"

/* Programs the verifier must reject (each names the expected reason in the test). */

SEC("timer") int no_null_check(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(MAP_ID(0), &key);
    return (int)*v;
}

/* Constant offsets need no data_end check, but only inside the hook's fixed
 * payload (SYS_ENTER: 56 bytes); p[7] is past it. */
SEC("sys_enter") int no_bounds_check(struct bpf_context *ctx)
{
    __u64 *p = (__u64 *)(long)ctx->data;
    return (int)p[7];
}

/* A variable offset always needs a data_end check covering it. */
SEC("sys_enter") int short_bounds_check(struct bpf_context *ctx)
{
    __u64 *p = (__u64 *)(long)ctx->data;
    __u64 i = bpf_ktime_get_ns() & 1;
    if ((void *)(p + 1) > (void *)(long)ctx->data_end)
        return 0;
    return (int)p[i];
}

SEC("timer") int unbounded_index(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u8 *v = bpf_map_lookup_elem(MAP_ID(2), &key);
    if (!v)
        return 0;
    __u64 i = bpf_ktime_get_ns();
    return v[i];
}

SEC("timer") int off_by_one(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u8 *v = bpf_map_lookup_elem(MAP_ID(2), &key);
    if (!v)
        return 0;
    __u64 i = bpf_ktime_get_ns();
    if (i > 128)
        return 0;
    return v[i];
}

SEC("timer") int leak_pointer(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(MAP_ID(0), &key);
    if (!v)
        return 0;
    *v = (__u64)(long)v;
    return 0;
}

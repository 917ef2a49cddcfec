#include "bpf_helpers.h"

/* Programs the verifier must reject (each names the expected reason in the test). */

SEC("timer") int no_null_check(struct bpf_context *ctx)
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(MAP_ID(0), &key);
    return (int)*v;
}

SEC("sys_enter") int no_bounds_check(struct bpf_context *ctx)
{
    __u64 *p = (__u64 *)(long)ctx->data;
    return (int)p[1];
}

SEC("sys_enter") int short_bounds_check(struct bpf_context *ctx)
{
    __u64 *p = (__u64 *)(long)ctx->data;
    if ((void *)(p + 1) > (void *)(long)ctx->data_end)
        return 0;
    return (int)p[1];
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

#include "bpf_helpers.h"

static __noinline __u64 square_plus(__u64 x, __u64 y)
{
    return x * x + y;
}

static __noinline int bump(__u32 idx)
{
    __u32 key = idx;
    __u64 *v = bpf_map_lookup_elem(MAP_ID(0), &key);
    if (!v)
        return -1;
    *v += 1;
    return 0;
}

static __noinline __u64 sum_buf(const __u64 *buf, int n)
{
    __u64 s = 0;
    for (int i = 0; i < 4; i++)
        s += buf[i];
    return s + n;
}

SEC("timer") int local_calls(struct bpf_context *ctx)
{
    __u64 t = bpf_ktime_get_ns();
    __u64 buf[4] = {t, t >> 1, t >> 2, t >> 3};
    int r = bump((__u32)(t & 7));
    return (int)(square_plus(t & 0xff, 3) + r + sum_buf(buf, 4));
}

/* BPF-to-BPF calls: .text functions, transitive calls, two callers, one unused. */
#include "axiom_bpf.h"

static __noinline __u64 square(__u64 x)
{
    return x * x;
}

static __noinline __u64 sum_squares(__u64 a, __u64 b)
{
    return square(a) + square(b);
}

__noinline __u64 never_called(__u64 x)
{
    return x + 12345;
}

SEC("timer") int calls_twice(struct bpf_context *ctx)
{
    return (int)sum_squares(3, 4); /* 25 */
}

SEC("timer/other") int calls_once(struct bpf_context *ctx)
{
    return (int)square(9); /* 81 */
}

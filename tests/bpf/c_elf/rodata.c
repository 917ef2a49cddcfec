/* .rodata is frozen: reading a `static volatile const` is fine, writing it is refused. */
#include "axiom_bpf.h"

static volatile const __u64 limit = 5;

SEC("timer") int read_limit(struct bpf_context *ctx) { return (int)limit; }

SEC("timer") int write_limit(struct bpf_context *ctx)
{
    *(volatile __u64 *)&limit = 7;
    return 0;
}

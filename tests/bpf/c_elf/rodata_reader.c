/* Only reads its .rodata: loads fine, and the map it creates is frozen. */
#include "axiom_bpf.h"

static volatile const __u64 limit = 5;

SEC("timer") int read_limit(struct bpf_context *ctx) { return (int)limit; }

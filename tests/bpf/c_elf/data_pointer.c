#include "axiom_bpf.h"
__u64 target = 1;
__u64 *pointer = &target; /* needs a relocation in .data */
SEC("timer") int prog(struct bpf_context *ctx) { return (int)*pointer; }

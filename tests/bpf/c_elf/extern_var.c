#include "axiom_bpf.h"
extern __u64 provided_elsewhere;
SEC("timer") int prog(struct bpf_context *ctx) { return (int)provided_elsewhere; }

#include "axiom_bpf.h"
BPF_RINGBUF_DEF(odd_ring, 1000); /* not a power of two */
SEC("timer") int prog(struct bpf_context *ctx) { return bpf_ringbuf_output(&odd_ring, &(__u64){0}, 8, 0); }

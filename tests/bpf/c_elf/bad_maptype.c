#include "axiom_bpf.h"
BPF_MAP_DEF(percpu, 5 /* BPF_MAP_TYPE_PERCPU_HASH: not in axiomOS */, 4, 8, 16);
SEC("timer") int prog(struct bpf_context *ctx) { return bpf_map_lookup_elem(&percpu, &(__u32){0}) != 0; }

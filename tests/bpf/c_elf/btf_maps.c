/* A libbpf BTF-style map: all zero bytes without BTF. */
#include "axiom_bpf.h"
struct { int (*type)[BPF_MAP_TYPE_ARRAY]; int (*max_entries)[1]; __u32 *key; __u64 *value; } btf_map SEC(".maps");
SEC("timer") int prog(struct bpf_context *ctx) { return bpf_map_lookup_elem(&btf_map, &(__u32){0}) != 0; }

#include "axiom_bpf.h"
SEC("kprobe/do_sys_open") int probe(struct bpf_context *ctx) { return 0; }

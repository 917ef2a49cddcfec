/* rodata_demo.bpf.c: a timer program reading a `static volatile const` from .rodata,
 * which PROG_LOAD_ELF creates frozen (libbpf's bpf_map_freeze): userspace can read it
 * but not update or delete it (-EPERM), and a program writing it is refused. Used by
 * userspace/testprogs/t_rodata.c. */
#include "axiom_bpf.h"

static volatile const __u64 limit = 5;

SEC("timer") int read_limit(struct bpf_context *ctx) { return (int)limit; }

/* Every BTF kind clang emits for a libbpf-style program (tests/bpf/test_btf.py). */
#include "axiom_bpf.h"

struct opaque;                                  /* FWD (only pointed to) */
enum small { SMALL_A = 1, SMALL_B = -2 };       /* ENUM (signed) */
enum wide { WIDE_BIG = 0x123456789ULL };        /* ENUM64 */
typedef const volatile __u32 *restrict cvr_t;   /* TYPEDEF -> RESTRICT -> PTR -> CONST -> VOLATILE */
#define __tag __attribute__((btf_decl_tag("kept")))
#define __utag __attribute__((btf_type_tag("user")))

struct value {
    __u64 count;
    char name[6];                               /* ARRAY of INT char */
    union { __s32 i; float f; } u;              /* UNION, FLOAT */
    enum small s;
    enum wide w;
    cvr_t p;
    struct opaque *o;
    int __utag *tagged;                         /* TYPE_TAG */
    unsigned int bits : 3;                      /* bitfield: kind_flag struct */
} __tag;                                        /* DECL_TAG on the struct */

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, struct value);
} kinds SEC(".maps");

const volatile __u64 knob = 7;                  /* VAR in DATASEC .rodata */

static __noinline int helper(int x __tag) { return x + 1; }  /* FUNC static, DECL_TAG param */

SEC("timer") int probe(struct bpf_context *ctx)  /* FUNC global, FUNC_PROTO */
{
    __u32 key = 0;
    struct value *v = bpf_map_lookup_elem(&kinds, &key);
    if (!v)
        return 0;
    v->count += knob;
    return helper((int)v->count);
}

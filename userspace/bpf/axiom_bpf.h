/* axiom_bpf.h: the guest BPF SDK -- write axiomOS BPF programs in C.
 *
 * Build (what userspace/bpf_build.py runs; include dirs: build/include for the
 * generated axiom_abi.h, userspace/bpf for this file):
 *
 *   python -m ziglang cc -target bpfel-freestanding-none -O2 -g \
 *       -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-addrsig \
 *       -I build/include -I userspace/bpf -c prog.bpf.c -o prog.bpf.o
 *
 * (-g: clang emits .BTF, which describes BTF-style maps, and .BTF.ext, whose line
 * info puts source lines into the verifier log; the unwind/addrsig flags drop
 * .eh_frame and .llvm_addrsig, which the loader would ignore anyway.) Load the
 * object with sys_bpf cmd 36 (PROG_LOAD_ELF), or inspect it on the host with
 * `bpf-inspect prog.bpf.o`; `bpf-gen skeleton prog.bpf.o > prog.skel.h` writes a
 * libbpf-style skeleton header for the guest loader.
 *
 * Sections -- the name selects the attach type (libbpf's SEC() convention):
 *
 *   SEC("timer")          AttachType TIMER         no payload (ctx->data == 0)
 *   SEC("sys_enter")      SYS_ENTER                struct sys_enter_payload
 *   SEC("sys_exit")       SYS_EXIT                 struct sys_exit_payload
 *   SEC("sched_switch")   SCHED_SWITCH             struct sched_switch_payload
 *   SEC("iio")            IIO                      struct iio_payload
 *   SEC("gpio")           GPIO                     struct gpio_payload
 *   SEC("pwm")            PWM                      struct pwm_payload
 *
 * Any of them may carry a suffix: SEC("timer/heartbeat"). Every function in such a
 * section is one program (several per section and per object are fine). Plain
 * `static __noinline` functions land in .text: they are local functions, linked
 * after each program that calls them (BPF-to-BPF calls), never entry points. Code in
 * any other section is rejected.
 *
 * Maps -- libbpf's BTF-defined maps in SEC(".maps") (needs -g):
 *
 *   struct {
 *       __uint(type, BPF_MAP_TYPE_HASH);
 *       __uint(max_entries, 64);
 *       __type(key, __u32);            // or __uint(key_size, 4)
 *       __type(value, struct stats);   // or __uint(value_size, ...)
 *   } counts SEC(".maps");
 *   struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");
 *
 * or the legacy struct bpf_map_def in SEC("maps") (works without BTF):
 *
 *   BPF_MAP_DEF(counter, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u64), 1);
 *   BPF_RINGBUF_DEF(events, 4096);
 *   ... bpf_map_lookup_elem(&counter, &key) ...
 *
 * The loader creates each map (hash 1, array 2, ringbuf 27, timeseries 100; any
 * other type is an error naming the map; map_flags must be 0) and patches every
 * `&map` into an ld_imm64 carrying the map id. A plain id also works: MAP_ID(3).
 *
 * Global variables: .data, .rodata (string literals too) and .bss become
 * single-entry array maps, named ".data" etc., initialised from the object; the
 * program reads and writes them directly, userspace through the map (key 0).
 * The loader pins every map as "<object>/<map>" and every program as
 * "<object>/prog/<function>" (OBJ_GET), where <object> is the source file name
 * without .bpf.c (see kernel/bpf/ELF_NOTES.md).
 */
#ifndef AXIOM_BPF_H
#define AXIOM_BPF_H

#include "axiom_abi.h" /* struct bpf_context, payload structs, BPF_FUNC_*, BPF_MAP_TYPE_* */

typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef int8_t __s8;
typedef int16_t __s16;
typedef int32_t __s32;
typedef int64_t __s64;

#define SEC(name) __attribute__((section(name), used))

/* libbpf's BTF map-definition macros: the value lives in the member's type. */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[] /* map-in-map: refused by the loader */
#define __noinline __attribute__((noinline))
#define __always_inline inline __attribute__((always_inline))

/* ---- maps ------------------------------------------------------------------ */

struct bpf_map_def {
    __u32 type;
    __u32 key_size;
    __u32 value_size;
    __u32 max_entries;
    __u32 map_flags; /* must be 0 */
};
_Static_assert(sizeof(struct bpf_map_def) == 20, "bpf_map_def size");

#define BPF_MAP_DEF(name, map_type, ksize, vsize, entries)                                 \
    struct bpf_map_def SEC("maps") name = {                                                \
        .type = (map_type), .key_size = (ksize), .value_size = (vsize),                    \
        .max_entries = (entries)}
#define BPF_RINGBUF_DEF(name, bytes) BPF_MAP_DEF(name, BPF_MAP_TYPE_RINGBUF, 0, 0, bytes)

/* A map named by a plain integer id (ABI section 6 allows both forms). */
#define MAP_ID(n) ((void *)(long)(n))

/* ---- helpers (ABI section 6; numbers from axiom_abi.h) ----------------------- */

static __u64 (*bpf_ktime_get_ns)(void) = (void *)BPF_FUNC_ktime_get_ns;
/* Prints "[BPF] <fmt formatted with up to 3 arguments>" (Linux's bpf_trace_printk
 * conversions: %d %i %u %x %X with l/ll, %p %s %c %%, flags 0 - + space, a width).
 * A fmt without '%' prints as is, up to its NUL (size is not used to cut it).
 * A bad fmt in .rodata is refused at load, any other bad fmt returns -EINVAL. */
static long (*bpf_trace_printk)(const char *fmt, __u32 size, ...) = (void *)BPF_FUNC_trace_printk;
static void *(*bpf_map_lookup_elem)(void *map, const void *key) =
    (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) =
    (void *)BPF_FUNC_map_update_elem;
static long (*bpf_map_delete_elem)(void *map, const void *key) =
    (void *)BPF_FUNC_map_delete_elem;
static long (*bpf_ringbuf_output)(void *map, const void *data, __u64 size, __u64 flags) =
    (void *)BPF_FUNC_ringbuf_output;
static long (*bpf_timeseries_push)(void *map, const __u64 *ts, const void *value) =
    (void *)BPF_FUNC_timeseries_push;
static __u64 (*bpf_get_interrupt_latency_ns)(void *ctx) =
    (void *)BPF_FUNC_get_interrupt_latency_ns;
static __u64 (*bpf_get_boot_time_ms)(void *ctx) = (void *)BPF_FUNC_get_boot_time_ms;
static __u64 (*bpf_get_kernel_heap_kb)(void *ctx) = (void *)BPF_FUNC_get_kernel_heap_kb;
static __u64 (*bpf_get_kernel_image_mb)(void *ctx) = (void *)BPF_FUNC_get_kernel_image_mb;
static long (*bpf_motor_emergency_stop)(__u64 reason) = (void *)BPF_FUNC_motor_emergency_stop;
static long (*bpf_gpio_write)(__u32 pin, __u32 value) = (void *)BPF_FUNC_gpio_write;
static long (*bpf_gpio_read)(__u32 pin) = (void *)BPF_FUNC_gpio_read;
static long (*bpf_pwm_write)(__u32 pwm_id, __u32 channel, __u32 duty_percent) =
    (void *)BPF_FUNC_pwm_write;

/* Named by the ABI, not in the spec's dispatch table: the verifier rejects a call to any
 * helper the kernel does not dispatch (kernel/bpf/runtime/helper_protos.py has the list). */
static __u32 (*bpf_get_prandom_u32)(void) = (void *)BPF_FUNC_get_prandom_u32;
static __u32 (*bpf_get_smp_processor_id)(void) = (void *)BPF_FUNC_get_smp_processor_id;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)BPF_FUNC_get_current_pid_tgid;
static __u64 (*bpf_get_current_uid_gid)(void) = (void *)BPF_FUNC_get_current_uid_gid;
static long (*bpf_get_current_comm)(void *buf, __u32 size) = (void *)BPF_FUNC_get_current_comm;
static long (*bpf_probe_read)(void *dst, __u32 size, const void *src) =
    (void *)BPF_FUNC_probe_read;

/* bpf_printk("n=%d x=%llx", n, x): libbpf's macro. The format becomes a static
 * const array (in .rodata, so the verifier checks it at load); at most three
 * arguments (R3-R5), each widened to 64 bits. */
#define ___bpf_nth(_, _1, _2, _3, _4, _5, _6, _7, _8, _9, N, ...) N
#define ___bpf_narg(...) ___bpf_nth(_, ##__VA_ARGS__, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define bpf_printk(fmt, ...)                                                               \
    ({                                                                                     \
        _Static_assert(___bpf_narg(__VA_ARGS__) <= 3, "bpf_printk takes at most 3 arguments"); \
        static const char ____fmt[] = fmt;                                                 \
        bpf_trace_printk(____fmt, sizeof(____fmt), ##__VA_ARGS__);                         \
    })

/* The hook payload behind ctx->data, or 0 if it is shorter than `type`:
 *   struct iio_payload *p = BPF_PAYLOAD(ctx, struct iio_payload);
 *   if (!p) return 0;
 * The data + size <= data_end comparison is what the verifier needs to see. */
#define BPF_PAYLOAD(ctx, type)                                                             \
    ((void *)(long)(ctx)->data + sizeof(type) <= (void *)(long)(ctx)->data_end             \
         ? (type *)(void *)(long)(ctx)->data                                               \
         : (type *)0)

#endif

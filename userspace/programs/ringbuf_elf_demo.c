/* ringbuf_elf_demo: the ringbuf demo with the timer program written in C.
 *
 * Same console output as ringbuf_demo (spec section 11 (b)), but the ringbuf and
 * the program come from /lib/bpf/ringbuf_demo.o (source:
 * userspace/bpf/ringbuf_demo.bpf.c), loaded with PROG_LOAD_ELF (sys_bpf cmd 36);
 * the ringbuf id is found with OBJ_GET("ringbuf_demo/events").
 *
 * Output:
 *   [bpf_loader] Starting BPF ringbuf demo...
 *   [bpf_loader] Created ringbuf map id=<R> (4096 bytes)
 *   [bpf_loader] Loading BPF program (11 instructions)...
 *   [bpf_loader] BPF program loaded with id=<P>
 *   [bpf_loader] Attaching program to timer...
 *   [bpf_loader] SUCCESS: BPF program attached to timer!
 *   [bpf_loader] Event #k: timestamp=<ns> (8 bytes)          (k = 1..10)
 *   [bpf_loader] Detached; 10 events, timestamps increasing, mean interval <us> us
 * The ELF load happens before the "Created ringbuf" line (it creates the map), so
 * a load failure prints `[bpf_loader] FAILED (error <n>)` right after the first
 * line (verifier message as `[bpf_loader] verifier: <log>`); exit status 1. */
#include "ringbuf_demo.h"

#define OBJ_PATH "/lib/bpf/ringbuf_demo.o"
#define OBJ_MAX (64 * 1024)
#define PROG_INSNS 11 /* clang's code for ringbuf_demo.bpf.c; checked by tests/bpf */

static char log_buf[512];
static uint8_t obj[OBJ_MAX];

static void check(long r)
{
    if (r >= 0)
        return;
    printf("[bpf_loader] FAILED (error %ld)\n", r);
    if (r == -EACCES && log_buf[0])
        printf("[bpf_loader] verifier: %s\n", log_buf);
    exit(1);
}

int main(void)
{
    print("[bpf_loader] Starting BPF ringbuf demo...\n");
    long size = read_file(OBJ_PATH, obj, OBJ_MAX);
    check(size);
    long id = bpf_prog_load_elf(obj, size, "ringbuf_demo", log_buf, sizeof log_buf);
    check(id);
    long rb = bpf_obj_get("ringbuf_demo/events");
    check(rb);
    printf("[bpf_loader] Created ringbuf map id=%ld (4096 bytes)\n", rb);
    printf("[bpf_loader] Loading BPF program (%d instructions)...\n", PROG_INSNS);
    printf("[bpf_loader] BPF program loaded with id=%ld\n", id);
    return ringbuf_demo_finish(rb, id);
}

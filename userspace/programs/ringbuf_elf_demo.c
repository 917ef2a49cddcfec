/* ringbuf_elf_demo: the ringbuf demo with the timer program written in C.
 *
 * Same console output as ringbuf_demo (spec section 11 (b)), but the ringbuf and
 * the program come from the object compiled from userspace/bpf/ringbuf_demo.bpf.c,
 * embedded in this program by its generated skeleton (ringbuf_demo.skel.h, `bpf-gen
 * skeleton`): ringbuf_demo_bpf__open_and_load() loads it with PROG_LOAD_ELF (sys_bpf
 * cmd 36) and finds skel->maps.events / skel->progs.timestamp by their pin names.
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
#include "ringbuf_demo.skel.h"

#define PROG_INSNS 11 /* clang's code for ringbuf_demo.bpf.c; checked by tests/bpf */

static void check(long r)
{
    if (r >= 0)
        return;
    printf("[bpf_loader] FAILED (error %ld)\n", r);
    const char *log = ringbuf_demo_bpf__verifier_log();
    if (r == -EACCES && log[0])
        printf("[bpf_loader] verifier: %s\n", log);
    exit(1);
}

int main(void)
{
    print("[bpf_loader] Starting BPF ringbuf demo...\n");
    struct ringbuf_demo_bpf *skel = ringbuf_demo_bpf__open_and_load();
    if (!skel)
        check(ringbuf_demo_bpf__last_error());
    printf("[bpf_loader] Created ringbuf map id=%ld (4096 bytes)\n", skel->maps.events);
    printf("[bpf_loader] Loading BPF program (%d instructions)...\n", PROG_INSNS);
    printf("[bpf_loader] BPF program loaded with id=%ld\n", skel->progs.timestamp);
    return ringbuf_demo_finish(skel->maps.events, skel->progs.timestamp);
}

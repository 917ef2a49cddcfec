/* The part of the end-to-end demo (spec section 11) that bpf_loader and bpf_loader_elf
 * share: step results, steps 4 and 5 (attach, the event loop), the PROVEN block, and
 * the detach that ends the demo. Each loader creates or finds the maps and the program
 * its own way (instruction array vs ELF object), then calls bpf_loader_finish(). */
#ifndef BPF_LOADER_DEMO_H
#define BPF_LOADER_DEMO_H

#include "bpf_user.h"

#define LINE "========================================\n"
#define EVENTS 10

static char log_buf[512]; /* the verifier's log when a load is rejected */

/* A failed step prints `FAILED (error <n>)` (and the verifier log) and exits 1. */
static void step_result(long r)
{
    if (r >= 0)
        return;
    printf("FAILED (error %ld)\n", r);
    if (r == -EACCES && log_buf[0])
        printf("  verifier: %s\n", log_buf);
    exit(1);
}

static int bpf_loader_finish(long counter, long events, long prog_id)
{
    print("[4/5] Attaching to timer... ");
    step_result(bpf_prog_attach(prog_id, BPF_ATTACH_TIMER));
    print("OK\n");

    print("[5/5] Entering event loop...\n\n");
    uint32_t zero = 0;
    int received = 0;
    uint64_t value = 0, map_counter = 0;
    while (received < EVENTS) {
        long n = bpf_ringbuf_poll(events, &value, sizeof value);
        if (n < 0) {
            printf("  [error] RINGBUF_POLL failed: %ld\n", n);
        } else if (n > 0) {
            received++;
            bpf_map_lookup(counter, &zero, &map_counter);
            printf("  Tick #%d received via ringbuf (counter=%lu), map counter: %lu\n", received,
                   (unsigned long)value, (unsigned long)map_counter);
        }
        sleep_ms(100);
    }
    bpf_map_lookup(counter, &zero, &map_counter);
    print("\n" LINE "  Demo Complete!\n");
    printf("  Events received: %d\n  Final map counter: %lu\n", received,
           (unsigned long)map_counter);
    print("  Pipeline: load -> verify -> attach -> execute -> maps -> ringbuf -> userspace\n"
          "  Phase 1 BPF end-to-end: PROVEN\n" LINE);
    return bpf_prog_detach(prog_id, BPF_ATTACH_TIMER) == 0 ? 0 : 1;
}

#endif

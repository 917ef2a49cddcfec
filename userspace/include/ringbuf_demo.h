/* The part of the ringbuf demo (spec section 11 (b)) that ringbuf_demo and
 * ringbuf_elf_demo share: attach, poll 10 timestamps, detach, check they increase.
 * `check` and `log_buf` come from the including program. */
#ifndef RINGBUF_DEMO_H
#define RINGBUF_DEMO_H

#include "bpf_user.h"

#define EVENTS 10

static void check(long r);

static int ringbuf_demo_finish(long rb, long id)
{
    print("[bpf_loader] Attaching program to timer...\n");
    check(bpf_prog_attach(id, BPF_ATTACH_TIMER));
    print("[bpf_loader] SUCCESS: BPF program attached to timer!\n");

    uint64_t ts[EVENTS];
    int got = 0, failed = 0;
    while (got < EVENTS) {
        uint64_t value = 0;
        long n = bpf_ringbuf_poll(rb, &value, sizeof value);
        if (n < 0) {
            printf("[bpf_loader] RINGBUF_POLL failed: %ld\n", n);
            failed = 1;
            break;
        }
        if (n > 0) {
            ts[got++] = value;
            printf("[bpf_loader] Event #%d: timestamp=%lu (%ld bytes)\n", got,
                   (unsigned long)value, n);
        }
        sleep_ms(10);
    }
    check(bpf_prog_detach(id, BPF_ATTACH_TIMER));
    if (failed)
        return 1;

    int increasing = 1;
    for (int i = 1; i < EVENTS; i++)
        if (ts[i] <= ts[i - 1])
            increasing = 0;
    unsigned long mean_us = (unsigned long)((ts[EVENTS - 1] - ts[0]) / (EVENTS - 1) / 1000);
    printf("[bpf_loader] Detached; %d events, timestamps %s, mean interval %lu us\n", got,
           increasing ? "increasing" : "NOT increasing", mean_us);
    return increasing ? 0 : 1;
}

#endif

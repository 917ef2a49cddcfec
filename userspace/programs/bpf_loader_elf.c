/* bpf_loader_elf: the end-to-end BPF demo with the program written in C.
 *
 * Same console output as bpf_loader (spec section 11), but the maps and the timer
 * program come from the object compiled from userspace/bpf/bpf_loader.bpf.c, embedded
 * by its generated skeleton (bpf_loader.skel.h, `bpf-gen skeleton`):
 * bpf_loader_bpf__open_and_load() loads it with PROG_LOAD_ELF (sys_bpf cmd 36) and
 * finds skel->maps.counter, skel->maps.events and skel->progs.tick by their pin names.
 * Step [1/5] performs the load, so an ELF or verifier failure is reported there.
 * The instruction count printed in step [3/5] is the object's `timer` section
 * size / 8 (29 slots: clang's code), read from the embedded object.
 *
 * Output: exactly bpf_loader's, with "<n> insns" = 29. A failing step ends its
 * line with "FAILED (error <n>)" (verifier message as "  verifier: <log>") and
 * exits 1; poll errors print "  [error] RINGBUF_POLL failed: <n>". */
#include "bpf_loader_demo.h"
#include "bpf_loader.skel.h"

static const uint8_t *obj = bpf_loader_bpf__elf;

/* Little-endian field of the object (byte-wise: no unaligned loads). */
static uint64_t rd(uint64_t off, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | obj[off + (uint64_t)i];
    return v;
}

/* Size / 8 of the ELF64 section called `name`, or 0. */
static long section_insns(long size, const char *name)
{
    if (size < 64)
        return 0;
    uint64_t shoff = rd(0x28, 8), shentsize = rd(0x3a, 2), shnum = rd(0x3c, 2);
    uint64_t shstrndx = rd(0x3e, 2);
    if (shentsize != 64 || shstrndx >= shnum || shoff + shnum * 64 > (uint64_t)size)
        return 0;
    uint64_t strtab = rd(shoff + shstrndx * 64 + 0x18, 8);
    for (uint64_t i = 0; i < shnum; i++) {
        uint64_t name_off = strtab + rd(shoff + i * 64, 4);
        if (name_off < (uint64_t)size && strcmp((const char *)obj + name_off, name) == 0)
            return (long)(rd(shoff + i * 64 + 0x20, 8) / 8);
    }
    return 0;
}

int main(void)
{
    print("\n" LINE "  Axiom BPF End-to-End Demo\n  Maps + Ringbuf + Timer Attach\n" LINE "\n");

    print("[1/5] Creating array map (counter)... ");
    struct bpf_loader_bpf *skel = bpf_loader_bpf__open_and_load();
    if (!skel) {
        const char *log = bpf_loader_bpf__verifier_log();
        for (unsigned i = 0; i < sizeof log_buf - 1 && (log_buf[i] = log[i]); i++)
            ;
        step_result(bpf_loader_bpf__last_error());
    }
    printf("OK (id=%ld)\n", skel->maps.counter);

    print("[2/5] Creating ringbuf map (events)... ");
    printf("OK (id=%ld)\n", skel->maps.events);

    print("[3/5] Loading BPF program... ");
    long size = sizeof bpf_loader_bpf__elf;
    printf("OK (id=%ld, %ld insns)\n", skel->progs.tick, section_insns(size, "timer"));

    return bpf_loader_finish(skel->maps.counter, skel->maps.events, skel->progs.tick);
}

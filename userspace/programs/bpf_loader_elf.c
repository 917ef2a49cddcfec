/* bpf_loader_elf: the end-to-end BPF demo with the program written in C.
 *
 * Same console output as bpf_loader (spec section 11), but the maps and the timer
 * program come from the clang-built object /lib/bpf/bpf_loader.o (source:
 * userspace/bpf/bpf_loader.bpf.c), loaded with PROG_LOAD_ELF (sys_bpf cmd 36).
 * The load creates the maps; their ids are found by name with OBJ_GET
 * ("bpf_loader/counter", "bpf_loader/events"). Step [1/5] performs the load, so
 * an ELF or verifier failure is reported there. The instruction count printed in
 * step [3/5] is the object's `timer` section size / 8 (29 slots: clang's code).
 *
 * Output: exactly bpf_loader's, with "<n> insns" = 29. A failing step ends its
 * line with "FAILED (error <n>)" (verifier message as "  verifier: <log>") and
 * exits 1; poll errors print "  [error] RINGBUF_POLL failed: <n>". */
#include "bpf_loader_demo.h"

#define OBJ_PATH "/lib/bpf/bpf_loader.o"
#define OBJ_MAX (64 * 1024)

static uint8_t obj[OBJ_MAX];

/* Little-endian field of obj[] (byte-wise: no unaligned loads). */
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
    log_buf[0] = 0;
    long size = read_file(OBJ_PATH, obj, OBJ_MAX);
    step_result(size);
    long prog_id = bpf_prog_load_elf(obj, size, "bpf_loader", log_buf, sizeof log_buf);
    step_result(prog_id);
    long counter = bpf_obj_get("bpf_loader/counter");
    step_result(counter);
    printf("OK (id=%ld)\n", counter);

    print("[2/5] Creating ringbuf map (events)... ");
    long events = bpf_obj_get("bpf_loader/events");
    step_result(events);
    printf("OK (id=%ld)\n", events);

    print("[3/5] Loading BPF program... ");
    printf("OK (id=%ld, %ld insns)\n", prog_id, section_insns(size, "timer"));

    return bpf_loader_finish(counter, events, prog_id);
}

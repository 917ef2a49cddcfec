/* t_smc: code that changes after it has run, in an executable mapping. A small
 * function returning a constant is called, overwritten by the guest's own stores and
 * called again, then overwritten by the kernel (a read() from a pipe into it) and
 * called once more: each call must run the code as it is now, never a stale
 * translation of what was there before. (Real hardware would also need a cache
 * flush on AArch64; the emulated CPU keeps instruction and data views coherent.)
 *
 * Output:
 *   call 1: 5
 *   call 2: 6
 *   call 3: 7
 *   t_smc: done
 * Exit status 0 (1 on a failure). */
#include "minilib.h"

typedef long (*constant_fn)(void);

/* `return n` as machine code: 8 bytes, the second instruction ends the function. */
static void encode(unsigned char *out, unsigned n)
{
#if defined(__x86_64__)
    unsigned char code[8] = {0xb8, n & 0xff, (n >> 8) & 0xff, 0, 0, 0xc3, 0x90, 0x90};
#else
    uint32_t insns[2] = {0xd2800000u | (n << 5), 0xd65f03c0u}; /* mov x0, #n; ret */
    unsigned char code[8];
    memcpy(code, insns, sizeof code);
#endif
    memcpy(out, code, sizeof code);
}

int main(void)
{
    unsigned char *page = mmap(0, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (is_err(page)) {
        printf("mmap: FAILED (%ld)\n", (long)page);
        return 1;
    }
    constant_fn fn = (constant_fn)page;
    encode(page, 5);
    printf("call 1: %ld\n", fn());
    encode(page, 6); /* the guest's own stores over code that has run */
    printf("call 2: %ld\n", fn());
    int fds[2];
    unsigned char code[8];
    encode(code, 7);
    if (pipe(fds) < 0 || write(fds[1], code, sizeof code) != sizeof code ||
        read(fds[0], page, sizeof code) != sizeof code) { /* the kernel writes the code */
        print("pipe: FAILED\n");
        return 1;
    }
    printf("call 3: %ld\n", fn());
    print("t_smc: done\n");
    return 0;
}

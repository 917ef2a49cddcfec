/* t_mmap: anonymous mmap gives zeroed, writable memory; bad arguments fail.
 *
 * Output:
 *   mmap: OK
 *   mmap len 0: -27
 *   t_mmap: done
 * Exit status 0 (1 on a failure). */
#include "minilib.h"

int main(void)
{
    long len = 3 * PAGE_SIZE;
    unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (is_err(p)) {
        printf("mmap: FAILED (%ld)\n", (long)p);
        return 1;
    }
    for (long i = 0; i < len; i++) {
        if (p[i] != 0) {
            printf("mmap: FAILED (not zero at %ld)\n", i);
            return 1;
        }
        p[i] = (unsigned char)i;
    }
    if (p[len - 1] != (unsigned char)(len - 1)) {
        print("mmap: FAILED (readback)\n");
        return 1;
    }
    print("mmap: OK\n");
    void *bad = mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap len 0: %ld\n", (long)bad);
    print("t_mmap: done\n");
    return 0;
}

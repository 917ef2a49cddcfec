/* t_oom: allocate 1 MiB chunks until malloc fails, then recover.
 *
 * malloc returns the address, or -errno as a pointer. Output:
 *   malloc failed: -47 after <n> MiB          (-ENOMEM; 126 with the default -m 128M)
 *   recovered: OK
 * Exit status 0; 1 if malloc never failed within 4096 MiB or did not recover. */
#include "minilib.h"

#define MIB (1UL << 20)
#define MAX_CHUNKS 4096

static char *chunks[MAX_CHUNKS];

int main(void)
{
    long n = 0;
    char *p = 0;
    while (n < MAX_CHUNKS) {
        p = malloc(MIB);
        if (is_err(p))
            break;
        p[0] = 1; /* touch one page only: keep the emulator fast */
        chunks[n++] = p;
    }
    if (!is_err(p)) {
        printf("no malloc failure after %ld MiB\n", n);
        return 1;
    }
    printf("malloc failed: %ld after %ld MiB\n", (long)p, n);
    for (long i = 0; i < n; i++)
        free(chunks[i]);
    p = malloc(MIB);
    if (is_err(p) || p[0] != 0) {
        printf("recovered: FAILED (%ld)\n", (long)p);
        return 1;
    }
    print("recovered: OK\n");
    return 0;
}

/* t_forkbomb: fork until the kernel refuses, then reap everything.
 *
 * Each child sleeps 50 ms and exits 0. Output:
 *   fork failed: -6 after <n> children        (-EAGAIN; n is the kernel's limit, 63 today)
 *   reaped <n>
 * Exit status 0; 1 if fork never failed within 4096 children or a reap failed. */
#include "minilib.h"

#define MAX_CHILDREN 4096

static long pids[MAX_CHILDREN];

int main(void)
{
    long n = 0, r = 0;
    while (n < MAX_CHILDREN) {
        r = fork();
        if (r == 0) {
            sleep_ms(50);
            exit(0);
        }
        if (r < 0)
            break;
        pids[n++] = r;
    }
    if (r >= 0) {
        printf("no fork failure after %ld children\n", n);
        return 1;
    }
    printf("fork failed: %ld after %ld children\n", r, n);

    long reaped = 0;
    for (long i = 0; i < n; i++) {
        int status;
        if (waitpid(pids[i], &status, 0) == pids[i])
            reaped++;
    }
    printf("reaped %ld\n", reaped);
    return reaped == n ? 0 : 1;
}

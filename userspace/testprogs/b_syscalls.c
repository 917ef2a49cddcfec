/* b_syscalls: argv[1] (default 100000) lseek(0, 0, SEEK_CUR) calls on /dev/null, the
 * cheapest syscall round trip, for `make bench`. Prints `syscalls <n>` and exits 0. */
#include "minilib.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atoi(argv[1]) : 100000;
    for (long i = 0; i < n; i++)
        lseek(0, 0, SEEK_CUR);
    printf("syscalls %ld\n", n);
    return 0;
}

/* b_spin: a CPU-bound loop of argv[1] (default 10000000) iterations with no syscalls,
 * for `make bench` (guest instructions per second). Prints `spin <checksum>`. */
#include "minilib.h"

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], 0, 10) : 10000000UL;
    volatile unsigned long acc = 1;
    for (unsigned long i = 0; i < n; i++)
        acc = acc * 6364136223846793005UL + i;
    printf("spin %lx\n", (unsigned long)acc);
    return 0;
}

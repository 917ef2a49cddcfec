/* t_idle: sleeps for argv[1] milliseconds (default 1000) in 100 ms steps, then exits 0.
 * A quiet, long-running process for tick-rate and clock tests.
 *
 * Output:
 *   idle <ms> ms
 *   idle done */
#include "minilib.h"

int main(int argc, char **argv)
{
    long ms = argc > 1 ? atoi(argv[1]) : 1000;
    printf("idle %ld ms\n", ms);
    for (long left = ms; left > 0; left -= 100)
        sleep_ms(left < 100 ? left : 100);
    print("idle done\n");
    return 0;
}

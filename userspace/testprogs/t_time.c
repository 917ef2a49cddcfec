/* t_time: clock_gettime around a 100 ms nanosleep.
 *
 * Output:
 *   t0=<sec>.<nsec, 9 digits>
 *   t1=<sec>.<nsec, 9 digits>
 *   slept_ns=<t1 - t0>
 *   sleep >= 100 ms: OK            (or "sleep too short" and exit status 1)
 * Exit status 0. */
#include "minilib.h"

int main(void)
{
    struct timespec t0, t1, req = {0, 100000000};
    clock_gettime(0, &t0);
    long r = nanosleep(&req, 0);
    clock_gettime(0, &t1);
    long diff = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
    printf("t0=%ld.%09ld\n", (long)t0.tv_sec, (long)t0.tv_nsec);
    printf("t1=%ld.%09ld\n", (long)t1.tv_sec, (long)t1.tv_nsec);
    printf("slept_ns=%ld\n", diff);
    if (r != 0 || diff < 100000000) {
        printf("sleep too short (r=%ld)\n", r);
        return 1;
    }
    print("sleep >= 100 ms: OK\n");
    return 0;
}

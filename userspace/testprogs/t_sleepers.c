/* t_sleepers: two sleeping children interleave by virtual time.
 *
 * Child A prints "A 0".."A 4" sleeping 10 ms after each line; child B prints
 * "B 0".."B 4" sleeping 15 ms after each. Lines of one child are in order; the
 * interleaving follows virtual time (A at 0,10,20,30,40 ms, B at 0,15,30,45,60 ms;
 * ties at 0 and 30 ms are decided by the scheduler) and must be identical on every run.
 * Observed with the icount clock on both arches:
 *   A 0, B 0, A 1, B 1, A 2, A 3, B 2, A 4, B 3, B 4   (one per line)
 * The parent then prints:
 *   sleepers done
 * Exit status 0 (1 if a child failed). */
#include "minilib.h"

static long start_child(const char *name, long period_ms)
{
    long pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 5; i++) {
            printf("%s %d\n", name, i);
            sleep_ms(period_ms);
        }
        exit(0);
    }
    return pid;
}

int main(void)
{
    long a = start_child("A", 10);
    long b = start_child("B", 15);
    int sa = -1, sb = -1;
    if (a < 0 || b < 0 || waitpid(a, &sa, 0) != a || waitpid(b, &sb, 0) != b) {
        printf("t_sleepers: FAILED (%ld %ld)\n", a, b);
        return 1;
    }
    print("sleepers done\n");
    return (sa | sb) ? 1 : 0;
}

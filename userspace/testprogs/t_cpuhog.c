/* t_cpuhog: a child spinning without syscalls must not starve a sleeping sibling.
 *
 * Output:
 *   sleeper 0
 *   sleeper 1
 *   sleeper 2
 *   sleeper 3
 *   sleeper 4
 *   sleeper finished
 * (the sleeper sleeps 20 ms after each line). The parent does not wait for the
 * hog, which spins forever. Exit status 0. */
#include "minilib.h"

int main(void)
{
    long hog = fork();
    if (hog == 0) {
        volatile unsigned long spins = 0;
        for (;;)
            spins++;
    }
    long sleeper = fork();
    if (sleeper == 0) {
        for (int i = 0; i < 5; i++) {
            printf("sleeper %d\n", i);
            sleep_ms(20);
        }
        exit(0);
    }
    int status = 0;
    if (hog < 0 || sleeper < 0 || waitpid(sleeper, &status, 0) != sleeper) {
        printf("t_cpuhog: FAILED (%ld %ld)\n", hog, sleeper);
        return 1;
    }
    print("sleeper finished\n");
    return 0;
}

/* b_pingpong: parent and child pass one byte back and forth argv[1] (default 2000)
 * times through two pipes; every round trip is two context switches. For `make bench`.
 * Prints `pingpong <n>` and exits 0. */
#include "minilib.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atoi(argv[1]) : 2000;
    int to_child[2], to_parent[2];
    char byte = 'x';
    if (pipe(to_child) < 0 || pipe(to_parent) < 0)
        return 1;
    long pid = fork();
    if (pid == 0) {
        for (long i = 0; i < n; i++) {
            read(to_child[0], &byte, 1);
            write(to_parent[1], &byte, 1);
        }
        exit(0);
    }
    for (long i = 0; i < n; i++) {
        write(to_child[1], &byte, 1);
        read(to_parent[0], &byte, 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("pingpong %ld\n", n);
    return 0;
}

/* t_pipe: 64 KiB through a pipe from the parent to a forked child.
 *
 * Byte i of the stream is (i * 31 + 7) & 0xff; the child hashes what it reads
 * (FNV-1a, 32 bit) until EOF and prints:
 *   pipe checksum: 0x75389dc5 bytes=65536
 * then the parent prints:
 *   pipe: child exited 0
 * EOF needs every write end closed: the child closes its inherited copy.
 * Exit status 0 (1 on a failure). */
#include "minilib.h"

#define TOTAL 65536
#define CHUNK 4096

static int child(int rfd)
{
    unsigned char buf[1000]; /* deliberately not a divisor of the chunk size */
    uint32_t h = 0x811c9dc5;
    unsigned long bytes = 0;
    long n;
    while ((n = read(rfd, buf, sizeof buf)) > 0) {
        for (long i = 0; i < n; i++)
            h = (h ^ buf[i]) * 0x01000193;
        bytes += n;
    }
    if (n < 0) {
        printf("pipe: read failed %ld\n", n);
        return 1;
    }
    printf("pipe checksum: 0x%x bytes=%lu\n", h, bytes);
    return 0;
}

int main(void)
{
    int fds[2];
    long r = pipe(fds);
    if (r != 0) {
        printf("pipe: FAILED (%ld)\n", r);
        return 1;
    }
    long pid = fork();
    if (pid == 0) {
        close(fds[1]);
        exit(child(fds[0]));
    }
    close(fds[0]);

    static unsigned char chunk[CHUNK];
    for (long off = 0; off < TOTAL; off += CHUNK) {
        for (int i = 0; i < CHUNK; i++)
            chunk[i] = (unsigned char)((off + i) * 31 + 7);
        for (long done = 0; done < CHUNK; done += r) {
            r = write(fds[1], chunk + done, CHUNK - done);
            if (r <= 0) {
                printf("pipe: write FAILED (%ld)\n", r);
                return 1;
            }
        }
    }
    close(fds[1]);
    int status = -1;
    waitpid(pid, &status, 0);
    printf("pipe: child exited %d\n", (status >> 8) & 0xff);
    return status == 0 ? 0 : 1;
}

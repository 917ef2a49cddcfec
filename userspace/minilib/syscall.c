/* The syscall trap (ABI section 1) and one wrapper per syscall of the table.
 *
 * x86_64: `int $0x80`, number in rax, args rdi rsi rdx rcx(!) r8 r9, result rax.
 * AArch64: `svc #0`, number in x8, args x0..x5, result x0.
 * The kernel preserves every other register, so only memory is clobbered. */
#include "minilib.h"

long syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
#if defined(__x86_64__)
    long ret;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "c"(a4), "r"(r8), "r"(r9)
                     : "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a1;
    register long x1 __asm__("x1") = a2;
    register long x2 __asm__("x2") = a3;
    register long x3 __asm__("x3") = a4;
    register long x4 __asm__("x4") = a5;
    register long x5 __asm__("x5") = a6;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
#else
#error "unsupported architecture"
#endif
}

#define SC0(n) syscall6((n), 0, 0, 0, 0, 0, 0)
#define SC1(n, a) syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define SC2(n, a, b) syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SC3(n, a, b, c) syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SC4(n, a, b, c, d) syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

void exit(int status)
{
    SC1(SYS_EXIT, status);
    for (;;) {
    }
}

void abort(void)
{
    SC0(SYS_ABORT);
    for (;;) {
    }
}

long spawn(const char *path, size_t len) { return SC2(SYS_SPAWN, path, len); }
long fork(void) { return SC0(SYS_FORK); }
long execve(const char *path, char *const argv[], char *const envp[])
{
    return SC3(SYS_EXECVE, path, argv, envp);
}
long waitpid(long pid, int *status, int options) { return SC3(SYS_WAITPID, pid, status, options); }
long debug(long op, long value) { return SC2(SYS_DEBUG, op, value); }

long open(const char *path, size_t len, int flags, int mode)
{
    return SC4(SYS_OPEN, path, len, flags, mode);
}
long open_path(const char *path, int flags) { return open(path, strlen(path), flags, 0644); }
long fstat(int fd, struct stat *st) { return SC2(SYS_FSTAT, fd, st); }
long read(int fd, void *buf, size_t n) { return SC3(SYS_READ, fd, buf, n); }
long write(int fd, const void *buf, size_t n) { return SC3(SYS_WRITE, fd, buf, n); }
long writev(int fd, const struct iovec *iov, int cnt) { return SC3(SYS_WRITEV, fd, iov, cnt); }
long lseek(int fd, long off, int whence) { return SC3(SYS_LSEEK, fd, off, whence); }
long close(int fd) { return SC1(SYS_CLOSE, fd); }
long dup(int fd) { return SC1(SYS_DUP, fd); }
long dup2(int oldfd, int newfd) { return SC2(SYS_DUP2, oldfd, newfd); }
long pipe(int fds[2]) { return SC1(SYS_PIPE, fds); }
long getcwd(char *buf, size_t size) { return SC2(SYS_GETCWD, buf, size); }

/* The spec gives no argument list for chdir/mkdir/rmdir; like open and spawn we
 * pass (path_ptr, path_len[, mode]), and the path is NUL-terminated as well. */
long chdir(const char *path) { return SC2(SYS_CHDIR, path, strlen(path)); }
long mkdir(const char *path, int mode) { return SC3(SYS_MKDIR, path, strlen(path), mode); }
long rmdir(const char *path) { return SC2(SYS_RMDIR, path, strlen(path)); }

void *malloc(size_t size) { return (void *)SC1(SYS_MALLOC, size); }
long free(void *ptr) { return SC1(SYS_FREE, ptr); }
void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
    return (void *)syscall6(SYS_MMAP, (long)addr, (long)len, prot, flags, fd, off);
}

long clock_gettime(int clock_id, struct timespec *ts) { return SC2(SYS_CLOCK_GETTIME, clock_id, ts); }
long nanosleep(const struct timespec *req, struct timespec *rem)
{
    return SC2(SYS_NANOSLEEP, req, rem);
}
long sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    return nanosleep(&ts, 0);
}

long bpf(int cmd, void *attr, size_t size) { return SC3(SYS_BPF, cmd, attr, size); }
long pwm_config(int pwm_id, long freq_hz) { return SC2(SYS_PWM_CONFIG, pwm_id, freq_hz); }
long pwm_write(int pwm_id, int channel, int duty_percent)
{
    return SC3(SYS_PWM_WRITE, pwm_id, channel, duty_percent);
}
long pwm_enable(int pwm_id, int channel, int enable)
{
    return SC3(SYS_PWM_ENABLE, pwm_id, channel, enable);
}

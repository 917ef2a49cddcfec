/* minilib: the tiny libc of the axiomOS userspace.
 *
 * Every syscall wrapper returns the raw kernel result: >= 0 on success, -errno on
 * failure (there is no global errno). malloc/mmap return the address, or -errno
 * cast to a pointer: test with is_err(). Numbers and structs come from the
 * generated axiom_abi.h (see kernel/abi_header.py). */
#ifndef MINILIB_H
#define MINILIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "axiom_abi.h"

#define NULL_FD 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

/* True for a pointer-returning syscall's failure value (-4095 .. -1). */
static inline int is_err(const void *p) { return (unsigned long)p >= (unsigned long)-4095; }

/* Raw syscall entry (syscall.c). */
long syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

/* Process. */
__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void abort(void);
long spawn(const char *path, size_t len);
long fork(void);
long execve(const char *path, char *const argv[], char *const envp[]);
long waitpid(long pid, int *status, int options);
long debug(long op, long value);

/* Files. */
long open(const char *path, size_t len, int flags, int mode);
long open_path(const char *path, int flags); /* NUL-terminated path, mode 0644 */
long fstat(int fd, struct stat *st);
long read(int fd, void *buf, size_t n);
long write(int fd, const void *buf, size_t n);
long writev(int fd, const struct iovec *iov, int cnt);
long lseek(int fd, long off, int whence);
long close(int fd);
long dup(int fd);
long dup2(int oldfd, int newfd);
long pipe(int fds[2]);
long getcwd(char *buf, size_t size); /* returns the buffer address on success */
long chdir(const char *path);
long mkdir(const char *path, int mode);
long rmdir(const char *path);

/* Memory. */
void *malloc(size_t size);
long free(void *ptr);
void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off);

/* Time. */
long clock_gettime(int clock_id, struct timespec *ts);
long nanosleep(const struct timespec *req, struct timespec *rem);
long sleep_ms(long ms); /* nanosleep convenience */

/* BPF and devices. */
long bpf(int cmd, void *attr, size_t size);
long pwm_config(int pwm_id, long freq_hz);
long pwm_write(int pwm_id, int channel, int duty_percent);
long pwm_enable(int pwm_id, int channel, int enable);

/* Strings and memory (string.c); compilers emit calls to mem* by these names. */
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *dst, const char *src);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int atoi(const char *s);
unsigned long strtoul(const char *s, char **end, int base);

/* Output (print.c). printf/snprintf support %d %i %u %x %X %p %c %s %% with flags
 * '-' '0' '+' ' ', width, precision and l/ll/z (%-4s %8lu %08lx %.3s); anything else
 * prints "%?" and consumes an argument. printf issues one write per call. */
long print(const char *s); /* writes s as is (no newline added) */
long print_dec(long v);
long print_udec(unsigned long v);
long print_hex(unsigned long v);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif

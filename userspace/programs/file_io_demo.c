/* file_io_demo: file syscalls on the ext2 root (/var, read-only) and /var/tmp.
 *
 * Output (success):
 *   === File I/O Demo ===
 *   fstat: OK (size=19)
 *   read: OK (Hello, axiom-ebpf!)
 *   lseek: OK
 *   create+write: OK
 *   read back: OK
 *   append: OK
 *   read-only root: OK (-69)
 *   mkdir: OK
 *   chdir+getcwd: OK (/var/tmp/demo_dir)
 *   rmdir: OK
 *   file_io_demo: all checks passed
 * Exit status 0. On a failure: "<step>: FAILED (<value>)" and exit status 1. */
#include "minilib.h"

#define HELLO "Hello, axiom-ebpf!\n"
#define TEST_FILE "/var/tmp/test.txt"
#define TEST_DIR "/var/tmp/demo_dir"

__attribute__((noreturn)) static void fail(const char *step, long value)
{
    printf("%s: FAILED (%ld)\n", step, value);
    exit(1);
}

/* Reads the whole file at path into buf (NUL-terminated); returns the length. */
static long slurp(const char *path, char *buf, size_t size)
{
    long fd = open_path(path, O_RDONLY);
    if (fd < 0)
        return fd;
    long total = 0, n;
    while ((n = read(fd, buf + total, size - 1 - total)) > 0)
        total += n;
    close(fd);
    buf[total] = '\0';
    return n < 0 ? n : total;
}

static void check_hello(void)
{
    struct stat st;
    char buf[64];
    long fd = open_path("/var/hello.txt", O_RDONLY);
    if (fd < 0)
        fail("open", fd);
    long r = fstat(fd, &st);
    if (r != 0 || st.st_size != sizeof HELLO - 1 || !S_ISREG(st.st_mode))
        fail("fstat", r ? r : st.st_size);
    printf("fstat: OK (size=%ld)\n", (long)st.st_size);

    r = read(fd, buf, sizeof buf);
    if (r != sizeof HELLO - 1 || memcmp(buf, HELLO, r) != 0)
        fail("read", r);
    buf[r - 1] = '\0'; /* drop the newline */
    printf("read: OK (%s)\n", buf);

    if ((r = lseek(fd, 7, SEEK_SET)) != 7)
        fail("lseek", r);
    if ((r = read(fd, buf, 5)) != 5 || memcmp(buf, "axiom", 5) != 0)
        fail("lseek", r);
    if ((r = lseek(fd, -5, SEEK_CUR)) != 7)
        fail("lseek", r);
    if ((r = lseek(fd, 0, SEEK_END)) != sizeof HELLO - 1)
        fail("lseek", r);
    if ((r = read(fd, buf, sizeof buf)) != 0)
        fail("lseek", r);
    close(fd);
    print("lseek: OK\n");
}

static void check_tmp_file(void)
{
    static const char line1[] = "file io test\n", line2[] = "appended\n";
    char buf[64];
    long fd = open_path(TEST_FILE, O_CREAT | O_WRONLY | O_TRUNC);
    if (fd < 0)
        fail("create+write", fd);
    long r = write(fd, line1, sizeof line1 - 1);
    if (r != sizeof line1 - 1)
        fail("create+write", r);
    close(fd);
    print("create+write: OK\n");

    r = slurp(TEST_FILE, buf, sizeof buf);
    if (r != sizeof line1 - 1 || strcmp(buf, line1) != 0)
        fail("read back", r);
    print("read back: OK\n");

    fd = open_path(TEST_FILE, O_WRONLY | O_APPEND);
    if (fd < 0)
        fail("append", fd);
    if ((r = write(fd, line2, sizeof line2 - 1)) != sizeof line2 - 1)
        fail("append", r);
    close(fd);
    r = slurp(TEST_FILE, buf, sizeof buf);
    if (r != sizeof line1 + sizeof line2 - 2 || strncmp(buf + sizeof line1 - 1, line2, 9) != 0)
        fail("append", r);
    print("append: OK\n");

    r = open_path("/var/new.txt", O_CREAT | O_WRONLY);
    if (r != -EROFS)
        fail("read-only root", r);
    printf("read-only root: OK (%ld)\n", r);
}

static void check_dirs(void)
{
    char cwd[128];
    long r = mkdir(TEST_DIR, 0755);
    if (r != 0)
        fail("mkdir", r);
    print("mkdir: OK\n");

    if ((r = chdir(TEST_DIR)) != 0)
        fail("chdir+getcwd", r);
    if ((r = getcwd(cwd, sizeof cwd)) != (long)cwd || strcmp(cwd, TEST_DIR) != 0)
        fail("chdir+getcwd", r);
    printf("chdir+getcwd: OK (%s)\n", cwd);

    if ((r = chdir("/var/tmp")) != 0)
        fail("rmdir", r);
    if ((r = rmdir(TEST_DIR)) != 0)
        fail("rmdir", r);
    if ((r = chdir(TEST_DIR)) >= 0)
        fail("rmdir", r);
    print("rmdir: OK\n");
}

int main(void)
{
    print("=== File I/O Demo ===\n");
    check_hello();
    check_tmp_file();
    check_dirs();
    print("file_io_demo: all checks passed\n");
    return 0;
}

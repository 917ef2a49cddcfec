/* init: the first user process.
 *
 * Output:
 *   === Axiom eBPF Init ===
 *   <contents of /var/hello.txt, i.e. "Hello, axiom-ebpf!">
 *   Spawning <path>...
 *   Spawned <name> with PID: <pid>          (then waits for it)
 * or, when spawn fails:
 *   Failed to spawn <name>, errno=<n>       (exit 1)
 * The program is argv[1] if the kernel command line gave one, else /bin/bpf_loader;
 * <name> is its basename. Further words (argv[2..]) are passed on to the program as its
 * argv[1..] (`--append "/bin/prog a b"`): then init forks and execs it with init's
 * environment, since spawn takes no arguments; a failed exec prints the same
 * "Failed to spawn" line from the child, which exits 1. If spawn returns -ENOSYS (no processes yet), init exits 0
 * silently. Exit status: the child's exit code, (status >> 8) & 0xff. */
#include "minilib.h"

static void show_file(const char *path)
{
    char buf[128];
    long fd = open_path(path, O_RDONLY);
    if (fd < 0) {
        printf("init: cannot open %s, errno=%ld\n", path, -fd);
        return;
    }
    long n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        write(STDOUT_FILENO, buf, n);
    close(fd);
}

/* fork + execve: like spawn, but the program gets argv (argv[0] = its path). */
static long spawn_args(char **argv, char **envp)
{
    long pid = fork();
    if (pid != 0)
        return pid;
    long err = execve(argv[0], argv, envp);
    const char *slash = strrchr(argv[0], '/');
    printf("Failed to spawn %s, errno=%ld\n", slash ? slash + 1 : argv[0], -err);
    exit(1);
}

int main(int argc, char **argv, char **envp)
{
    print("=== Axiom eBPF Init ===\n");
    show_file("/var/hello.txt");

    const char *path = argc > 1 ? argv[1] : "/bin/bpf_loader";
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;

    printf("Spawning %s...\n", path);
    long pid = argc > 2 ? spawn_args(argv + 1, envp) : spawn(path, strlen(path));
    if (pid == -ENOSYS)
        return 0;
    if (pid < 0) {
        printf("Failed to spawn %s, errno=%ld\n", name, -pid);
        return 1;
    }
    printf("Spawned %s with PID: %ld\n", name, pid);

    int status = 0;
    long r = waitpid(pid, &status, 0);
    if (r < 0) {
        printf("init: waitpid failed, errno=%ld\n", -r);
        return 1;
    }
    return (status >> 8) & 0xff;
}

/* t_orig_init_dev: the original dev branch's `init`: spawns the export demo, sleeps
 * 100 ms, spawns the bridge demo. The original then loops forever; this one waits
 * for the bridge and exits with its status, which powers the machine off
 * (deviation 11). Paths default to the C reproductions; argv[1] and argv[2]
 * override them (e.g. the original's Rust binaries added to an image).
 *
 * Output:
 *   === Axiom eBPF Init ===
 *   Phase 4 demo boot: <export> -> <bridge>
 *   ... both demos' output ...
 * Exit status: the bridge's. */
#include "minilib.h"

static long spawn_path(const char *path)
{
    long pid = spawn(path, strlen(path));
    if (pid < 0)
        printf("Failed to spawn %s, errno=%ld\n", path, -pid);
    return pid;
}

int main(int argc, char **argv)
{
    const char *exporter = argc > 1 ? argv[1] : "/bin/t_orig_export";
    const char *bridge = argc > 2 ? argv[2] : "/bin/t_orig_bridge";
    printf("=== Axiom eBPF Init ===\nPhase 4 demo boot: %s -> %s\n", exporter, bridge);
    spawn_path(exporter);
    sleep_ms(100);
    long pid = spawn_path(bridge);
    if (pid < 0)
        return 1;
    int status = 0;
    waitpid(pid, &status, 0);
    return (status >> 8) & 0xff;
}

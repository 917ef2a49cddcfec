/* t_rodata: frozen .rodata and the verifier log's tail (issue 9).
 *
 * Loads /lib/bpf/rodata_demo.o, finds its .rodata map ("rodata_demo/.rodata") and
 * tries MAP_UPDATE_ELEM and MAP_DELETE_ELEM on it (both -EPERM, 63), then reads it
 * (0, value 5). Then PROG_LOADs a program the verifier rejects with a 64-byte
 * log_buf: the log's END is kept, NUL-terminated, so it ends with the summary.
 *
 * Output:
 *   load: ok
 *   update: -63
 *   delete: -63
 *   lookup: 0 value 5
 *   rejected: -2
 *   log tail: <the last 63 bytes of the log>
 * Exit status 0. */
#include "bpf_user.h"

#define OBJ_PATH "/lib/bpf/rodata_demo.o"

static uint8_t obj[16 * 1024];
static char log_buf[64];

int main(void)
{
    long size = read_file(OBJ_PATH, obj, sizeof obj);
    long id = bpf_prog_load_elf(obj, size, "rodata_demo", 0, 0);
    if (id < 0) {
        printf("load: %ld\n", id);
        return 1;
    }
    print("load: ok\n");
    long map = bpf_obj_get("rodata_demo/.rodata");
    uint32_t key = 0;
    uint64_t value = 7;
    printf("update: %ld\n", bpf_map_update(map, &key, &value, 0));
    printf("delete: %ld\n", bpf_map_delete(map, &key));
    long r = bpf_map_lookup(map, &key, &value);
    printf("lookup: %ld value %lu\n", r, (unsigned long)value);

    /* reads stack never written */
    static const struct bpf_insn bad[] = {
        {0x79, 0xa0, -8, 0}, /* r0 = *(u64 *)(r10 -8) */
        {0x95, 0x00, 0, 0},  /* exit */
    };
    printf("rejected: %ld\n", bpf_prog_load(bad, 2, "bad", 0, log_buf, sizeof log_buf));
    printf("log tail: %s", log_buf);
    return 0;
}

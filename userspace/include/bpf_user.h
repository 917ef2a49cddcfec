/* bpf_user.h: small static inline wrappers around sys_bpf (ABI section 4) and
 * guest-time helpers, shared by the BPF demos. Header-only.
 *
 * Every wrapper returns the raw kernel result: >= 0 on success (an id, a length,
 * 0), -errno on failure. Map and program ids are global integers. */
#ifndef BPF_USER_H
#define BPF_USER_H

#include "bpf_insn.h"
#include "minilib.h"

static inline long bpf_cmd(int cmd, struct bpf_attr *attr)
{
    return bpf(cmd, attr, sizeof *attr);
}

static inline long bpf_cmd_ext(int cmd, struct bpf_attr_ext *attr)
{
    return bpf(cmd, attr, sizeof *attr);
}

/* MAP_CREATE -> map id. Ringbuf: key 0, value 0, max_entries = ring bytes. */
static inline long bpf_map_create(uint32_t type, uint32_t key_size, uint32_t value_size,
                                  uint32_t max_entries)
{
    struct bpf_attr attr = {0};
    attr.prog_type = type; /* map_type */
    attr.insn_cnt = key_size;
    attr.insns = value_size | (uint64_t)max_entries << 32;
    return bpf_cmd(BPF_MAP_CREATE, &attr);
}

static inline long bpf_map_lookup(long map_id, const void *key, void *value)
{
    struct bpf_attr attr = {0};
    attr.map_fd = (uint32_t)map_id;
    attr.key = (uint64_t)key;
    attr.value = (uint64_t)value;
    return bpf_cmd(BPF_MAP_LOOKUP_ELEM, &attr);
}

static inline long bpf_map_update(long map_id, const void *key, const void *value,
                                  uint64_t flags)
{
    struct bpf_attr attr = {0};
    attr.map_fd = (uint32_t)map_id;
    attr.key = (uint64_t)key;
    attr.value = (uint64_t)value;
    attr.flags = flags;
    return bpf_cmd(BPF_MAP_UPDATE_ELEM, &attr);
}

static inline long bpf_map_delete(long map_id, const void *key)
{
    struct bpf_attr attr = {0};
    attr.map_fd = (uint32_t)map_id;
    attr.key = (uint64_t)key;
    return bpf_cmd(BPF_MAP_DELETE_ELEM, &attr);
}

/* key NULL -> the first key. -ENOENT after the last one. */
static inline long bpf_map_get_next_key(long map_id, const void *key, void *next_key)
{
    struct bpf_attr attr = {0};
    attr.map_fd = (uint32_t)map_id;
    attr.key = (uint64_t)key;
    attr.value = (uint64_t)next_key;
    return bpf_cmd(BPF_MAP_GET_NEXT_KEY, &attr);
}

/* PROG_LOAD -> program id. attach_type (BPF_ATTACH_*, 0 = unknown) tells the
 * verifier which payload the program will see. On rejection (-EACCES) the
 * verifier's message is in log (if log is non-NULL). */
/* The attr fields PROG_LOAD and PROG_LOAD_ELF share: code, size, name, verifier log. */
static inline void bpf_load_attr(struct bpf_attr *attr, const void *code, uint32_t count,
                                 const char *name, char *log, uint32_t log_size)
{
    attr->insn_cnt = count;
    attr->insns = (uint64_t)code;
    if (log && log_size) {
        log[0] = 0;
        attr->log_level = 1;
        attr->log_size = log_size;
        attr->log_buf = (uint64_t)log;
    }
    for (int i = 0; name && name[i] && i < 15; i++)
        attr->prog_name[i] = name[i];
}

static inline long bpf_prog_load(const struct bpf_insn *insns, int cnt, const char *name,
                                 uint32_t attach_type, char *log, uint32_t log_size)
{
    struct bpf_attr attr = {0};
    bpf_load_attr(&attr, insns, (uint32_t)cnt, name, log, log_size);
    attr.expected_attach_type = attach_type;
    return bpf_cmd(BPF_PROG_LOAD, &attr);
}

/* PROG_LOAD_ELF: a BPF ELF object of `size` bytes -> the first program's id. Every map
 * and program of the object is also pinned as "<name>/<map>" and "<name>/prog/<fn>". */
static inline long bpf_prog_load_elf(const void *data, long size, const char *name, char *log,
                                     uint32_t log_size)
{
    struct bpf_attr attr = {0};
    bpf_load_attr(&attr, data, (uint32_t)size, name, log, log_size);
    return bpf_cmd(BPF_PROG_LOAD_ELF, &attr);
}

static inline long bpf_prog_attach(long prog_id, uint32_t attach_type)
{
    struct bpf_attr attr = {0};
    attr.attach_btf_id = attach_type;
    attr.attach_prog_fd = (uint32_t)prog_id;
    return bpf_cmd(BPF_PROG_ATTACH, &attr);
}

static inline long bpf_prog_detach(long prog_id, uint32_t attach_type)
{
    struct bpf_attr attr = {0};
    attr.attach_btf_id = attach_type;
    attr.attach_prog_fd = (uint32_t)prog_id;
    return bpf_cmd(BPF_PROG_DETACH, &attr);
}

/* RINGBUF_POLL: one record's payload -> its length; 0 if empty; -ENOSPC if cap
 * is too small (the record stays queued). */
static inline long bpf_ringbuf_poll(long map_id, void *buf, uint64_t cap)
{
    struct bpf_attr attr = {0};
    attr.map_fd = (uint32_t)map_id;
    attr.key = (uint64_t)buf;
    attr.value = cap;
    return bpf_cmd(BPF_RINGBUF_POLL, &attr);
}

static inline long bpf_obj_pin(long map_id, const char *name)
{
    struct bpf_attr_ext attr = {0};
    attr.map_fd = (uint32_t)map_id;
    attr.pathname = (uint64_t)name;
    attr.path_len = (uint32_t)strlen(name) + 1;
    return bpf_cmd_ext(BPF_OBJ_PIN, &attr);
}

static inline long bpf_obj_get(const char *name)
{
    struct bpf_attr_ext attr = {0};
    attr.pathname = (uint64_t)name;
    attr.path_len = (uint32_t)strlen(name) + 1;
    return bpf_cmd_ext(BPF_OBJ_GET, &attr);
}

static inline long bpf_obj_get_info(long map_id, struct bpf_obj_info *info, uint32_t info_len)
{
    struct bpf_attr_ext attr = {0};
    attr.map_fd = (uint32_t)map_id;
    attr.info = (uint64_t)info;
    attr.info_len = info_len;
    return bpf_cmd_ext(BPF_OBJ_GET_INFO_BY_FD, &attr);
}

/* Pin a map (kind BPF_OBJ_KIND_MAP) or a program (BPF_OBJ_KIND_PROG) under `name`. */
static inline long bpf_obj_pin_kind(long id, uint32_t kind, const char *name)
{
    struct bpf_attr_ext attr = {0};
    attr.map_fd = (uint32_t)id;
    attr.file_flags = kind;
    attr.pathname = (uint64_t)name;
    attr.path_len = (uint32_t)strlen(name) + 1;
    return bpf_cmd_ext(BPF_OBJ_PIN, &attr);
}

/* OBJ_GET that also reports what the pin is: *kind = BPF_OBJ_KIND_MAP or _PROG. */
static inline long bpf_obj_get_kind(const char *name, uint32_t *kind)
{
    struct bpf_attr_ext attr = {0};
    attr.pathname = (uint64_t)name;
    attr.path_len = (uint32_t)strlen(name) + 1;
    long id = bpf_cmd_ext(BPF_OBJ_GET, &attr);
    *kind = attr.file_flags;
    return id;
}

/* OBJ_GET_INFO_BY_FD for program `prog_id` (struct bpf_prog_info, 24 bytes). */
static inline long bpf_prog_get_info(long prog_id, struct bpf_prog_info *info)
{
    struct bpf_attr_ext attr = {0};
    attr.map_fd = (uint32_t)prog_id;
    attr.file_flags = BPF_OBJ_KIND_PROG;
    attr.info = (uint64_t)info;
    attr.info_len = sizeof *info;
    return bpf_cmd_ext(BPF_OBJ_GET_INFO_BY_FD, &attr);
}

/* Guest monotonic time in ns. */
static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(0, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}


/* Read a whole file (e.g. a BPF object) into buf -> its size, or -errno
 * (-E2BIG if it does not fit in max bytes). */
static inline long read_file(const char *path, uint8_t *buf, long max)
{
    long fd = open_path(path, O_RDONLY);
    if (fd < 0)
        return fd;
    long total = 0;
    for (;;) {
        long n = read((int)fd, buf + total, max - total);
        if (n <= 0) {
            close((int)fd);
            return n < 0 ? n : total;
        }
        total += n;
        if (total == max) {
            close((int)fd);
            return -E2BIG;
        }
    }
}

#endif /* BPF_USER_H */

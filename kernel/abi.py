"""The axiomOS ABI: every number and layout of the spec, in one place.

This module is the single source of truth. The guest's C header
(`build/include/axiom_abi.h`) is generated from it by `kernel.abi_header` at build time,
so the kernel model and the guest programs can never disagree.
"""

from __future__ import annotations

import enum
import struct


class Sys(enum.IntEnum):
    """Syscall numbers (spec section 2)."""

    EXIT = 1
    OPEN = 3
    FSTAT = 5
    MALLOC = 27
    FREE = 28
    ABORT = 32
    GETCWD = 35
    READ = 36
    WRITE = 37
    WRITEV = 38
    LSEEK = 39
    CLOSE = 40
    MMAP = 41
    DUP = 42
    DUP2 = 43
    PIPE = 44
    CHDIR = 45
    MKDIR = 46
    RMDIR = 47
    BPF = 50
    PWM_CONFIG = 51
    PWM_WRITE = 52
    PWM_ENABLE = 53
    CLOCK_GETTIME = 54
    NANOSLEEP = 55
    SPAWN = 56
    FORK = 57
    EXECVE = 58
    WAITPID = 59
    DEBUG = 60


class Errno(enum.IntEnum):
    """errno values: the alphabetical POSIX list (spec section 3), not Linux's."""

    E2BIG = 1
    EACCES = 2
    EADDRINUSE = 3
    EADDRNOTAVAIL = 4
    EAFNOSUPPORT = 5
    EAGAIN = 6
    EALREADY = 7
    EBADF = 8
    EBADMSG = 9
    EBUSY = 10
    ECANCELED = 11
    ECHILD = 12
    ECONNABORTED = 13
    ECONNREFUSED = 14
    EDEADLK = 15
    EDESTADDRREQ = 16
    EDOM = 17
    EDQUOT = 18
    EEXIST = 19
    EFAULT = 20
    EFBIG = 21
    EHOSTUNREACH = 22
    EIDRM = 23
    EILSEQ = 24
    EINPROGRESS = 25
    EINTR = 26
    EINVAL = 27
    EIO = 28
    EISCONN = 29
    EISDIR = 30
    ELOOP = 31
    EMFILE = 32
    EMLINK = 33
    EMSGSIZE = 34
    EMULTIHOP = 35
    ENAMETOOLONG = 36
    ENETDOWN = 37
    ENETRESET = 38
    ENETUNREACH = 39
    ENFILE = 40
    ENOBUFS = 41
    ENODEV = 42
    ENOENT = 43
    ENOEXEC = 44
    ENOLCK = 45
    ENOLINK = 46
    ENOMEM = 47
    ENOMSG = 48
    ENOPROTOOPT = 49
    ENOSPC = 50
    ENOSYS = 51
    ENOTCONN = 52
    ENOTDIR = 53
    ENOTEMPTY = 54
    ENOTRECOVERABLE = 55
    ENOTSOCK = 56
    ENOTSUP = 57
    ENOTTY = 58
    ENXIO = 59
    EOPNOTSUPP = 60
    EOVERFLOW = 61
    EOWNERDEAD = 62
    EPERM = 63
    EPIPE = 64
    EPROTO = 65
    EPROTONOSUPPORT = 66
    EPROTOTYPE = 67
    ERANGE = 68
    EROFS = 69
    ESOCKTNOSUPPORT = 70
    ESPIPE = 71
    ESRCH = 72
    ESTALE = 73
    ETIMEDOUT = 74
    ETXTBSY = 75
    EWOULDBLOCK = 76
    EXDEV = 77


class SyscallError(Exception):
    """Raised inside the kernel model to return `-errno` to the guest."""

    def __init__(self, errno: Errno, detail: str = "") -> None:
        super().__init__(f"{errno.name}{': ' + detail if detail else ''}")
        self.errno = errno
        self.detail = detail


class OpenFlag(enum.IntFlag):
    """`open` flags: the kernel's own values, not Linux's."""

    O_CLOEXEC = 1
    O_CREAT = 1 << 2
    O_TRUNC = 1 << 7
    O_APPEND = 1 << 9
    O_RDONLY = 1 << 16
    O_RDWR = 1 << 17
    O_WRONLY = 1 << 19


SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2
WNOHANG = 1
WRITEV_MAX_IOV = 1024


class Prot(enum.IntFlag):
    """mmap protections."""

    NONE = 0
    READ = 1
    WRITE = 2
    EXEC = 4


class MapFlag(enum.IntFlag):
    """mmap flags."""

    SHARED = 1
    PRIVATE = 2
    FIXED = 0x10
    ANONYMOUS = 0x20


class DebugOp(enum.IntEnum):
    """Operations of the debug syscall (60)."""

    SET_EXPORTED_RINGBUF = 1
    GET_EXPORTED_RINGBUF = 2


# File type bits of `struct stat.st_mode` (POSIX values).
S_IFIFO = 0o010000
S_IFCHR = 0o020000
S_IFDIR = 0o040000
S_IFREG = 0o100000
S_IFMT = 0o170000

# struct stat: Linux x86_64's 144-byte layout.
STAT_SIZE = 144
STAT_STRUCT = struct.Struct("<QQQIII4xQqqq6q3q")
assert STAT_STRUCT.size == STAT_SIZE

# struct timespec {i64 sec; i64 nsec}
TIMESPEC_STRUCT = struct.Struct("<qq")
# struct iovec {u64 base; u64 len}
IOVEC_STRUCT = struct.Struct("<QQ")


# ---------------------------------------------------------------- sys_bpf (section 4)


class BpfCmd(enum.IntEnum):
    """sys_bpf commands: 0..35 carry Linux's names, 36 and 37 are axiomOS's own."""

    MAP_CREATE = 0
    MAP_LOOKUP_ELEM = 1
    MAP_UPDATE_ELEM = 2
    MAP_DELETE_ELEM = 3
    MAP_GET_NEXT_KEY = 4
    PROG_LOAD = 5
    OBJ_PIN = 6
    OBJ_GET = 7
    PROG_ATTACH = 8
    PROG_DETACH = 9
    OBJ_GET_INFO_BY_FD = 15
    PROG_LOAD_ELF = 36
    RINGBUF_POLL = 37


BPF_ATTR_SIZE = 144
BPF_ATTR_EXT_SIZE = 176


class BpfAttrOff(enum.IntEnum):
    """Byte offsets of `BpfAttr` fields (reused per command, see the spec)."""

    PROG_TYPE = 0  # MAP_CREATE: map_type
    INSN_CNT = 4  # MAP_CREATE: key_size; PROG_LOAD_ELF: ELF size
    INSNS = 8  # MAP_CREATE: value_size | max_entries << 32; PROG_LOAD_ELF: ELF pointer
    LICENSE = 16
    LOG_LEVEL = 24
    LOG_SIZE = 28
    LOG_BUF = 32
    KERN_VERSION = 40
    PROG_FLAGS = 44
    PROG_NAME = 48
    PROG_IFINDEX = 64
    EXPECTED_ATTACH_TYPE = 68
    ATTACH_BTF_ID = 108  # ATTACH / DETACH: attach type
    ATTACH_PROG_FD = 112  # ATTACH / DETACH: program id
    MAP_FD = 116  # map commands and RINGBUF_POLL: map id
    KEY = 120  # RINGBUF_POLL: output buffer pointer
    VALUE = 128  # RINGBUF_POLL: buffer capacity
    FLAGS = 136
    PATHNAME = 144  # 176-byte form
    PATH_LEN = 152
    FILE_FLAGS = 156
    INFO = 160
    INFO_LEN = 168
    RESERVED = 172


BPF_PROG_MAX_INSNS = 4096
BPF_ELF_MAX_SIZE = 1 << 20
BPF_OBJ_INFO_SIZE = 24
BPF_OBJ_INFO_STRUCT = struct.Struct("<6I")  # id, kind, map_type, key_size, value_size, max_entries
BPF_OBJ_KIND_MAP = 1
BPF_OBJ_KIND_PROG = 2
# OBJ_GET_INFO_BY_FD of a program (file_flags = BPF_OBJ_KIND_PROG): id, kind, attach_type
# it was verified for (0 = unknown), insn_cnt, attached (bit 1 << type per hook it is
# attached to), run_cnt (hook runs, saturating at 2**32-1).
BPF_PROG_INFO_STRUCT = struct.Struct("<6I")


class MapUpdateFlag(enum.IntEnum):
    """MAP_UPDATE_ELEM flags."""

    ANY = 0
    NOEXIST = 1
    EXIST = 2


class MapType(enum.IntEnum):
    """Map types (section 5)."""

    HASH = 1
    ARRAY = 2
    RINGBUF = 27
    TIMESERIES = 100


RINGBUF_HDR_SIZE = 8
RINGBUF_BUSY_BIT = 1 << 31
RINGBUF_DISCARD_BIT = 1 << 30


class Helper(enum.IntEnum):
    """BPF helper ids: the numbering the kernel's interpreter dispatches (section 6)."""

    KTIME_GET_NS = 1
    TRACE_PRINTK = 2
    GET_PRANDOM_U32 = 3
    GET_SMP_PROCESSOR_ID = 4
    MAP_LOOKUP_ELEM = 5
    MAP_UPDATE_ELEM = 6
    MAP_DELETE_ELEM = 7
    RINGBUF_OUTPUT = 8
    TIMESERIES_PUSH = 9
    GET_CURRENT_PID_TGID = 10
    GET_CURRENT_UID_GID = 11
    GET_CURRENT_COMM = 12
    GET_INTERRUPT_LATENCY_NS = 13
    PROBE_READ = 14
    GET_BOOT_TIME_MS = 15
    GET_KERNEL_HEAP_KB = 16
    GET_KERNEL_IMAGE_MB = 17
    MOTOR_EMERGENCY_STOP = 1000
    GPIO_WRITE = 1003
    GPIO_READ = 1004
    PWM_WRITE = 1005


class AttachType(enum.IntEnum):
    """Attach types (section 7)."""

    TIMER = 1
    GPIO = 2
    PWM = 3
    IIO = 4
    SYS_ENTER = 5
    SYS_EXIT = 6
    SCHED_SWITCH = 7


# BpfContext, 56 bytes: data, data_end, data_meta, interrupt_latency_ns,
# boot_time_ms, kernel_heap_kb, kernel_image_mb (all u64).
BPF_CONTEXT_STRUCT = struct.Struct("<7Q")
BPF_CONTEXT_SIZE = 56


class CtxOff(enum.IntEnum):
    """Byte offsets in `BpfContext`."""

    DATA = 0
    DATA_END = 8
    DATA_META = 16
    INTERRUPT_LATENCY_NS = 24
    BOOT_TIME_MS = 32
    KERNEL_HEAP_KB = 40
    KERNEL_IMAGE_MB = 48


# Hook payloads behind ctx->data.
SYS_ENTER_PAYLOAD = struct.Struct("<7Q")  # nr, arg1..arg6
SYS_EXIT_PAYLOAD = struct.Struct("<Qq")  # nr, result
SCHED_SWITCH_PAYLOAD = struct.Struct("<5Q")  # cpu, prev_pid, prev_tid, next_pid, next_tid
IIO_PAYLOAD = struct.Struct("<QIIiIi4x")  # ts, device, channel, value, scale, offset
GPIO_PAYLOAD = struct.Struct("<QIIII")  # ts, chip, line, edge, value
PWM_PAYLOAD = struct.Struct("<QIIIIII")  # ts, chip, channel, period, duty, polarity, enabled
assert IIO_PAYLOAD.size == 32 and GPIO_PAYLOAD.size == 24 and PWM_PAYLOAD.size == 32


# ---------------------------------------------------------------- machines (section 9)


class Arch(enum.StrEnum):
    """The two guest architectures."""

    X86_64 = "x86_64"
    AARCH64 = "aarch64"


USER_LINK_BASE = {Arch.X86_64: 0x200000, Arch.AARCH64: 0x1_0000_0000}
USER_ALLOC_BASE = {Arch.X86_64: 0xF000, Arch.AARCH64: 0x2_0000_0000}
# After execve the original builds a fresh allocator whose AArch64 "anywhere" range
# starts at 0x1_0000_0000, so there TLS, stack and malloc follow the ELF segments.
USER_EXEC_ALLOC_BASE = {Arch.X86_64: 0xF000, Arch.AARCH64: 0x1_0000_0000}
PAGE_SIZE = 0x1000
USER_STACK_SIZE = 1 << 20

# Kernel log colours (section 10).
LOG_COLOURS = {
    "ERROR": "\x1b[1;31m",
    "WARN": "\x1b[1;33m",
    "INFO": "\x1b[1;94m",
    "DEBUG": "\x1b[1;30m",
}
LOG_RESET = "\x1b[0m"


def neg_errno(errno: Errno) -> int:
    """The syscall return value for a failure: `-errno`."""
    return -int(errno)

"""Host-side hardening: what the kernel model charges and bounds, and what run-virt,
the test API and the tools do with hostile or mistaken input."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from emulator.chardev import FileBackend
from emulator.cli import main as run_virt
from emulator.config import ConfigError, MachineConfig, host_memory_bytes
from emulator.logview import main as axiom_log
from emulator.machine import BadInput
from emulator.testing import boot
from kernel.abi import AttachType, Errno, SyscallError
from kernel.bpf.elf.inspect import main as bpf_inspect
from kernel.bpf.errors import BpfError
from kernel.bpf.runtime.env import NullHelperEnv
from kernel.bpf.runtime.maps import ArrayMap, MapTable
from kernel.bpf_attach.hooks import BpfHooks
from kernel.bpf_attach.registry import MAX_PROGRAMS, PROGRAM_BYTES_PER_INSN, BpfSubsystem
from kernel.fs.ext2 import Ext2Volume
from kernel.fs.rootfs import SectorReader
from kernel.fs.tmpfs import TMPFS_MAX_FILE_SIZE, TmpFs
from kernel.mm import MemoryAccount
from tests.bpf.c_elf import compile_object

ROOT = Path(__file__).resolve().parents[1]
IMAGE = {arch: ROOT / "build" / arch / "disk.img" for arch in ("x86_64", "aarch64")}
ARCHES = ("x86_64", "aarch64")
RET0 = bytes.fromhex("b7000000000000009500000000000000")  # r0 = 0; exit


def rss_bytes() -> int:
    """Current resident set of this process (not the peak)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, timeout=120
    )


# ---------------------------------------------------------------- kernel model


def test_tmpfs_charges_its_highest_byte_and_refuses_before_allocating() -> None:
    account = MemoryAccount(8 << 20)
    fs = TmpFs(lambda: 0, lambda _delta: None, account)
    node = fs.root.create("f")
    file = node.open(True, True, False, False)
    file.lseek(TMPFS_MAX_FILE_SIZE, 0)
    with pytest.raises(SyscallError) as err:
        file.write(b"x")
    assert err.value.errno is Errno.EFBIG
    file.lseek(16 << 20, 0)
    with pytest.raises(SyscallError) as err:
        file.write(b"x")
    assert err.value.errno is Errno.ENOMEM and len(node.data) == 0 and account.used == 0
    file.lseek(1 << 20, 0)
    assert file.write(b"x") == 1
    assert account.used == (1 << 20) + 1 == node.stat().size
    node.open(True, True, False, True).release()  # O_TRUNC gives the memory back
    assert account.used == 0
    with pytest.raises(SyscallError) as err:
        file.lseek(TMPFS_MAX_FILE_SIZE + 1, 0)
    assert err.value.errno is Errno.EINVAL


class _RecordingBpf:
    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.reads_memory = {t: True for t in AttachType}  # payloads are filled

    def run_hook(self, kind: AttachType, ctx: bytes | None, payload: bytes | None) -> None:
        assert payload is not None
        self.payloads.append(bytes(payload))  # the hooks reuse one buffer per event


@pytest.mark.parametrize(
    ("result", "as_i64"),
    [(1 << 63, -(1 << 63)), ((1 << 64) - 1, -1), (-22, -22), ((1 << 63) - 1, (1 << 63) - 1)],
)
def test_sys_exit_payload_is_the_register_as_i64(result: int, as_i64: int) -> None:
    hooks = BpfHooks()
    recorder = _RecordingBpf()
    hooks.bpf = recorder  # type: ignore[assignment]
    hooks.sys_exit(60, result)
    assert recorder.payloads == [struct.pack("<Qq", 60, as_i64)]


def test_loaded_programs_are_bounded_and_charged() -> None:
    charged: list[int] = []
    bpf = BpfSubsystem(NullHelperEnv(), lambda *_: None)
    bpf.charge = charged.append
    for _ in range(MAX_PROGRAMS):
        bpf.load(RET0)
    with pytest.raises(BpfError) as err:
        bpf.load(RET0)
    assert err.value.errno is Errno.E2BIG
    assert charged == [2 * PROGRAM_BYTES_PER_INSN] * MAX_PROGRAMS


def test_program_charge_refused_loads_nothing() -> None:
    bpf = BpfSubsystem(NullHelperEnv(), lambda *_: None)

    def refuse(_nbytes: int) -> None:
        raise BpfError(Errno.ENOMEM, "budget")

    bpf.charge = refuse
    with pytest.raises(BpfError):
        bpf.load(RET0)
    assert bpf.programs == []


def test_maps_are_charged_before_creation_and_array_views_are_lazy() -> None:
    costs: list[int] = []
    table = MapTable(costs.append)
    before = rss_bytes()
    big = table.create(2, 4, 1, 1 << 26)
    assert isinstance(big, ArrayMap) and big._views == {}
    assert rss_bytes() - before < 32 << 20  # untouched storage costs the host nothing
    big.update(struct.pack("<I", (1 << 26) - 1), b"\x07")
    assert bytes(big.lookup(struct.pack("<I", (1 << 26) - 1))) == b"\x07"
    table.create(27, 0, 0, 1 << 20)
    assert costs == [1024 + (1 << 26), 1024 + (1 << 20)]

    def refuse(_nbytes: int) -> None:
        raise BpfError(Errno.ENOMEM, "budget")

    table.charge = refuse
    with pytest.raises(BpfError):
        table.create(2, 4, 8, 1)
    assert len(table) == 2  # nothing half-made, no id consumed


def test_bpf_inspect_does_not_allocate_map_storage(tmp_path: Path, capsys) -> None:
    path = tmp_path / "huge.o"
    path.write_bytes(compile_object("huge_maps"))
    before = rss_bytes()
    assert bpf_inspect([str(path), "--no-disasm"]) == 0
    assert rss_bytes() - before < 64 << 20  # eight 64 MiB maps, none materialised
    assert "   7  big7  array    4      1     67108864" in capsys.readouterr().out


def test_block_device_reads_an_8_gib_sparse_image_on_demand(tmp_path: Path) -> None:
    image = tmp_path / "sparse.img"
    shutil.copyfile(IMAGE["x86_64"], image)
    os.truncate(image, 8 << 30)
    before = rss_bytes()
    vm = boot("x86_64", image=str(image), append="init=/bin/t_hello")
    assert vm.run_to_end() == 0
    assert rss_bytes() - before < 256 << 20
    assert vm.machine.block.sectors == (8 << 30) // 512


def _inode_offset(image: Path, path: str) -> int:
    """Byte offset of `path`'s on-disk inode in an ext2 image."""
    data = image.read_bytes()

    class Dev:
        def read(self, offset: int, size: int) -> bytes:
            return data[offset : offset + size]

    vol = Ext2Volume(Dev())
    ino = vol.lookup(path)
    group, index = divmod(ino - 1, vol._ipg)
    return vol._groups[group].inode_table * vol.block_size + index * vol._inode_size


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("size", [0x6000_0000, 1 << 44])
def test_init_with_a_corrupt_huge_size_is_refused_at_once(
    arch: str, size: int, tmp_path: Path
) -> None:
    image = tmp_path / "corrupt.img"
    shutil.copyfile(IMAGE[arch], image)
    offset = _inode_offset(image, "/bin/init")
    with open(image, "r+b") as fh:
        fh.seek(offset + 4)
        fh.write(struct.pack("<I", size & 0xFFFF_FFFF))
        fh.seek(offset + 108)  # i_size_high (large files)
        fh.write(struct.pack("<I", size >> 32))
    with pytest.raises(BadInput) as err:
        boot(arch, image=image)
    assert (
        str(err.value)
        == f"cannot start init /bin/init: ENOEXEC (/bin/init: {size} bytes > 67108864)"
    )


def test_ext2_read_past_the_block_maps_reach_is_eio_not_work() -> None:
    data = IMAGE["x86_64"].read_bytes()

    class Dev:
        sectors = len(data) // 512
        busy_ns = 0

        def read_sectors(self, lba: int, count: int) -> bytes:
            return data[lba * 512 : (lba + count) * 512]

    vol = Ext2Volume(SectorReader(Dev(), lambda _ns: None))
    ino = vol.lookup("/bin/init")
    inode = vol.inode(ino)
    vol._inodes.put(ino, dataclasses.replace(inode, size=vol.max_file_size + 1))
    with pytest.raises(Exception, match="block map's limit"):
        vol.read(ino, 0, 4096)


def _evil_elf(
    arch: str, *, phoff: int = 64, offset: int = 0, filesz: int = 0, memsz: int = 16
) -> bytes:
    machine = 62 if arch == "x86_64" else 183
    header = b"\x7fELF\x02\x01\x01" + bytes(9)
    header += struct.pack(
        "<HHIQQQIHHHHHH", 2, machine, 1, 0x400000, phoff, 0, 0, 64, 56, 1, 0, 0, 0
    )
    phdr = struct.pack("<IIQQQQQQ", 1, 5, offset, 0x400000, 0x400000, filesz, memsz, 0x1000)
    return header + phdr + bytes(16)


EVIL_INITS = {
    "phoff": ({"phoff": (1 << 64) - 1}, "ENOEXEC (evil: program headers lie outside the file)"),
    "offset": ({"offset": (1 << 64) - 1, "filesz": 16}, "ENOEXEC (evil: truncated segment)"),
    "filesz": ({"filesz": 1 << 62, "memsz": 1 << 62}, "ENOEXEC (evil: truncated segment)"),
    "memsz": ({"memsz": 1 << 40}, "ENOMEM"),
}


@pytest.fixture(scope="module")
def evil_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from images.build import build_image
    from tests.boot.conftest import BUILD

    out = {}
    for arch in ARCHES:
        tmp = tmp_path_factory.mktemp(arch)
        adds = []
        for name, (fields, _why) in EVIL_INITS.items():
            exe = tmp / name
            exe.write_bytes(_evil_elf(arch, **fields))
            exe.chmod(0o755)
            adds.append((exe, f"/bin/evil_{name}"))
        out[arch] = build_image(arch, tmp / "disk.img", add=adds, build_dir=BUILD, report=None)
    return out


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("name", list(EVIL_INITS))
def test_hostile_init_elf_is_the_documented_line_and_126(
    arch: str, name: str, evil_images: dict[str, Path]
) -> None:
    result = run_cli(
        "--arch", arch, "--image", str(evil_images[arch]), "--append", f"init=/bin/evil_{name}"
    )
    assert result.returncode == 126
    why = EVIL_INITS[name][1].replace("evil:", f"evil_{name}:")
    assert result.stderr.startswith(f"run-virt: error: cannot start init /bin/evil_{name}: {why}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


# ---------------------------------------------------------------- run-virt options


@pytest.mark.parametrize(
    ("cmdline", "message"),
    [
        ("init='/bin/x", 'bad kernel command line "init=\'/bin/x": No closing quotation'),
        ("init=/bin/\udcff", "the kernel command line is not valid UTF-8"),
    ],
)
def test_bad_kernel_command_line_is_bad_input(cmdline: str, message: str) -> None:
    result = CliRunner().invoke(run_virt, ["--append", cmdline, "--serial", "none"])
    assert result.exit_code == 126
    assert result.output == f"run-virt: error: {message}\n"


def test_non_utf8_append_from_a_real_argv() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--append", b"init=/bin/\xff"],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 126
    assert result.stderr == b"run-virt: error: the kernel command line is not valid UTF-8\n"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300", "-1", "0", "soon"])
def test_bad_timeout_is_a_usage_error(value: str) -> None:
    result = CliRunner().invoke(run_virt, ["--timeout", value, "--serial", "none"])
    assert result.exit_code == 2
    assert "Invalid value for '--timeout'" in result.output and "--timeout" in result.output


def test_memory_beyond_the_host_is_refused() -> None:
    result = CliRunner().invoke(run_virt, ["-m", "99999G", "--serial", "none"])
    assert result.exit_code == 2
    assert f"more than this host's {host_memory_bytes() >> 20} MiB of memory" in result.output
    with pytest.raises(ConfigError, match="at least 4M"):
        MachineConfig.from_options(memory="1M")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["-smp", "2"], "run-virt: error: -smp 2: the machine has exactly one CPU; drop -smp"),
        (["-kernel", "Image"], "run-virt: error: -kernel Image: the kernel is built in"),
        (["-hda", "x.img"], "run-virt: error: -hda x.img: one read-only ext2 disk is supported"),
        (["-drive", "file=x.img"], "run-virt: error: -drive file=x.img: one read-only ext2 disk"),
        (["-enable-kvm"], "run-virt: error: -enable-kvm: guest code runs in Unicorn"),
        (["-cpu", "max"], "run-virt: error: -cpu: the CPU model is fixed by --arch"),
    ],
)
def test_qemu_spellings_get_a_precise_line(args: list[str], line: str) -> None:
    result = CliRunner().invoke(run_virt, [*args, "--serial", "none"])
    assert result.exit_code == 2
    assert result.output.startswith(line) and result.output.count("\n") == 1


def test_qemu_spellings_that_mean_what_run_virt_does_run() -> None:
    result = CliRunner().invoke(
        run_virt,
        ["-nographic", "-snapshot", "-smp", "1", "-serial", "none"]
        + ["-append", "init=/bin/t_hello", "-icount", "shift=3"],
    )
    assert result.exit_code == 0
    assert result.output == (
        "run-virt: note: -nographic is always in effect: the console is the serial port "
        "(--serial stdio by default)\n"
        "run-virt: note: -snapshot is always in effect: the disk image is never written\n"
    )


def test_option_values_are_never_mistaken_for_qemu_options() -> None:
    result = CliRunner().invoke(run_virt, ["--append", "-kernel", "--serial", "none"])
    # '-kernel' reached the kernel command line: init's argv[1], which it fails to spawn
    assert result.exit_code == 1
    assert result.output == "run-virt: init exited with status 1\n"


def test_guest_status_124_is_told_apart_from_a_timeout() -> None:
    words = " ".join(["x"] * 123)  # t_args exits with argc: 124
    result = CliRunner().invoke(
        run_virt, ["--arch", "x86_64", "--append", f"init=/bin/t_args {words}", "--serial", "none"]
    )
    assert result.exit_code == 124
    assert result.output == "run-virt: init exited with status 124\n"


def test_serial_file_is_written_through_at_line_ends(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    backend = FileBackend(log)
    backend.write(b"partial")
    backend.write(b" line\nnext")
    assert log.read_bytes() == b"partial line\n"  # visible while the run goes on
    backend.close()
    assert log.read_bytes() == b"partial line\nnext"


def test_axiom_log_count_exits_1_when_nothing_matched(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    log.write_bytes(b"\x1b[1;94mINFO \x1b[0m boot [kernel] hello\r\n")
    none = CliRunner().invoke(axiom_log, [str(log), "--grep", "absent", "--count"])
    assert (none.exit_code, none.output) == (1, "0\n")
    one = CliRunner().invoke(axiom_log, [str(log), "--grep", "hello", "--count"])
    assert (one.exit_code, one.output) == (0, "1\n")


# ---------------------------------------------------------------- the test API


@pytest.mark.parametrize("arch", ARCHES)
def test_wait_for_text_printed_in_the_power_off_slice(arch: str) -> None:
    vm = boot(arch, append="init=/bin/t_hello")
    # t_hello prints and exits in one slice: the run loop sees power-off first
    assert vm.wait_for("hello from a user program").group(0)
    assert vm.state is not None and vm.state.name == "POWERED_OFF"
    # text already on the console, before the last match, for a new pattern
    assert vm.wait_for("mounting root filesystem").group(0)
    assert vm.wait_for(re.compile(r"status (\d+); powering off")).group(1) == "0"


def test_boot_takes_cli_names_and_values(tmp_path: Path) -> None:
    vm = boot("x86_64", image=str(IMAGE["x86_64"]), memory="64M", append="init=/bin/t_hello")
    assert vm.machine.kernel.account.limit == 64 << 20
    assert vm.run_to_end() == 0
    with pytest.raises(ConfigError, match="--timeout"):
        boot("x86_64", timeout="nan")
    with pytest.raises(TypeError):
        boot("x86_64", memroy="64M")


def test_qemu_table_translates_and_features_can_register() -> None:
    from emulator import qemu_compat

    notes: list[str] = []
    assert qemu_compat.preparse(
        ["-monitor", "stdio", "-gdb=tcp::1234", "--append", "-smp", "-machine", "virt"],
        ["--append"],
        notes.append,
    ) == ["--monitor", "stdio", "--gdb", "tcp::1234", "--append", "-smp", "--machine", "virt"]
    assert notes == []
    qemu_compat.register(qemu_compat.Spelling("-xyz", False, "refuse", "run-virt: error: -xyz"))
    try:
        with pytest.raises(qemu_compat.QemuSpellingError, match="-xyz"):
            qemu_compat.preparse(["-xyz"], [], notes.append)
    finally:
        qemu_compat.unregister("-xyz")
    assert qemu_compat.preparse(["-xyz"], [], notes.append) == ["-xyz"]

"""Monitor commands: the human (HMP-style) text commands and the JSON requests.

JSON mode (for axiom-bpftool and scripts): a line that starts with `{` is a request
`{"execute": NAME, "arguments": {...}}`; the reply is one line, `{"return": DATA}` or
`{"error": {"class": "GenericError", "desc": TEXT}}` (QMP's shapes). Keys and values
travel as lowercase hex strings. The request names are the keys of `_requests`
(listed in the README).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any

from emulator.monitor import inspect
from emulator.monitor.inspect import InspectError
from emulator.trace.items import LOG_ITEMS, UnknownItem, items_help, parse_list

HELP = """\
help                      list the commands
info registers [PID]      registers of the running (or given) process
info procs                processes: pid, name, state, memory, syscalls, cpu time
info bpf                  loaded BPF programs and maps
info mtree                the board's device windows by address space
info mem [PID]            mappings of the running (or given) process
stop                      freeze the guest (guest time stops)
cont                      resume the guest
quit                      stop the machine and exit run-virt (status 0)
x/N[xdu][bhwg] ADDR [PID] dump N units of guest memory (default x/4xw)
log ITEMS|none            set the -d items at run time (`log help` lists them)
gpio PIN LEVEL            rpi5: drive GPIO input PIN to LEVEL (0/1) now
info gpio | info pwm      rpi5: GPIO pin levels / PWM channel duty cycles
"""


class Control:
    """What the commands may do to the machine besides reading it."""

    def __init__(self, machine: Any) -> None:
        self.machine = machine
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True

    def cont(self) -> None:
        self.stopped = False

    def quit(self) -> None:
        self.stopped = False
        self.machine.quit_requested = True

    def set_log(self, items: list[str]) -> None:
        self.machine.obs.set_log_items(items)


# ------------------------------------------------------------------ JSON requests


def _hex(args: dict[str, Any], name: str) -> bytes:
    try:
        return bytes.fromhex(str(args[name]))
    except KeyError:
        raise InspectError(f"missing argument {name!r}") from None
    except ValueError:
        raise InspectError(f"argument {name!r} is not a hex string") from None


def _int(args: dict[str, Any], name: str) -> int:
    value = args.get(name)
    if not isinstance(value, int):
        raise InspectError(f"argument {name!r} must be an integer")
    return value


def _requests(ctl: Control) -> dict[str, Callable[[dict[str, Any]], object]]:
    k = ctl.machine.kernel

    def stop(_a: dict) -> None:
        ctl.stop()

    def cont(_a: dict) -> None:
        ctl.cont()

    def quit_(_a: dict) -> None:
        ctl.quit()

    return {
        "query-status": lambda a: {
            "running": not ctl.stopped,
            "guest_ns": ctl.machine.clock.now_ns(),
            "ticks": k.ticks,
            "context_switches": k.sched.switches,
        },
        "query-procs": lambda a: inspect.processes(k),
        "query-registers": lambda a: inspect.registers(k, a.get("pid")),
        "query-mtree": lambda a: inspect.memory_tree(k),
        "query-mem": lambda a: inspect.memory_mappings(k, a.get("pid")),
        "memory-read": lambda a: inspect.read_memory(
            k, _int(a, "address"), _int(a, "size"), a.get("pid")
        ).hex(),
        "prog-list": lambda a: inspect.programs(k),
        "prog-show": lambda a: inspect.program(k, _int(a, "id")),
        "prog-dump-xlated": lambda a: inspect.dump_xlated(k, _int(a, "id")),
        "map-list": lambda a: inspect.maps(k),
        "map-show": lambda a: inspect.map_show(k, _int(a, "id")),
        "map-dump": lambda a: inspect.map_dump(k, _int(a, "id")),
        "map-lookup": lambda a: inspect.map_lookup(k, _int(a, "id"), _hex(a, "key")),
        "map-update": lambda a: inspect.map_update(
            k, _int(a, "id"), _hex(a, "key"), _hex(a, "value"), a.get("flags", 0)
        ),
        "map-delete": lambda a: inspect.map_delete(k, _int(a, "id"), _hex(a, "key")),
        "map-peek": lambda a: inspect.map_peek(k, _int(a, "id"), a.get("count")),
        "stop": stop,
        "cont": cont,
        "quit": quit_,
        "log": lambda a: _set_log(ctl, str(a.get("items", ""))),
        "human-monitor-command": lambda a: human(ctl, str(a.get("command-line", ""))),
    }


def json_request(ctl: Control, line: str) -> str:
    """One JSON request line -> one JSON reply line."""
    try:
        request = json.loads(line)
        if not isinstance(request, dict) or not isinstance(request.get("execute"), str):
            raise InspectError('a request is {"execute": NAME, "arguments": {...}}')
        handlers = _requests(ctl)
        handler = handlers.get(request["execute"])
        if handler is None:
            raise InspectError(f"unknown request {request['execute']!r}")
        arguments = request.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise InspectError("arguments must be an object")
        reply: dict[str, object] = {"return": handler(arguments)}
    except json.JSONDecodeError as err:
        reply = {"error": {"class": "GenericError", "desc": f"bad JSON: {err.msg}"}}
    except (InspectError, UnknownItem) as err:
        reply = {"error": {"class": "GenericError", "desc": str(err)}}
    except Exception as err:  # a monitor bug must not take the machine down
        reply = {"error": {"class": "InternalError", "desc": f"{type(err).__name__}: {err}"}}
    return json.dumps(reply, separators=(",", ":"))


def _set_log(ctl: Control, text: str) -> list[str]:
    items = [] if text.strip() in ("", "none") else parse_list(text, LOG_ITEMS, "log item")
    ctl.set_log(items)
    return items


# ------------------------------------------------------------------ human commands

X_FORMAT = re.compile(r"^x/(\d*)([xdu]?)([bhwg]?)$")
UNIT = {"b": 1, "h": 2, "w": 4, "g": 8}


def human(ctl: Control, line: str) -> str:
    """Run one text command; returns its output (may be empty)."""
    try:
        words = shlex.split(line)
    except ValueError as err:
        return f"error: {err}\n"
    if not words:
        return ""
    k = ctl.machine.kernel
    try:
        cmd, rest = words[0], words[1:]
        if cmd == "help" or cmd == "?":
            return HELP
        if cmd == "info" and rest:
            return _info(k, rest)
        if cmd == "stop":
            ctl.stop()
            return ""
        if cmd in ("cont", "c"):
            ctl.cont()
            return ""
        if cmd in ("quit", "q"):
            ctl.quit()
            return ""
        if cmd == "x" and rest and rest[0].startswith("/"):  # QEMU also takes `x /4xw ADDR`
            cmd, rest = "x" + rest[0], rest[1:]
        if cmd.startswith("x/") or cmd == "x":
            return _examine(k, cmd if cmd != "x" else "x/", rest)
        if cmd == "gpio":
            return _gpio(ctl.machine.board, rest)
        if cmd == "log":
            if rest and rest[0] == "help":
                return items_help() + "\n"
            if not rest:
                current = ctl.machine.obs.log_items
                return f"log items: {','.join(current) or 'none'}\n"
            items = _set_log(ctl, ",".join(rest))
            return f"log items: {','.join(items) or 'none'}\n"
        return f"unknown command: {cmd!r} (try `help`)\n"
    except (InspectError, UnknownItem) as err:
        return f"error: {err}\n"
    except Exception as err:  # a monitor bug must not take the machine down
        return f"internal error: {type(err).__name__}: {err}\n"


def _info(k: Any, rest: list[str]) -> str:
    what = rest[0]
    if what == "registers":
        pid = int(rest[1]) if len(rest) > 1 else None
        data = inspect.registers(k, pid)
        regs = data["registers"]
        assert isinstance(regs, dict)
        lines = [f"pid {data['pid']} ({data['name']}) {data['arch']}"]
        cells = [f"{name.upper():>8}={value:016x}" for name, value in regs.items()]
        for i in range(0, len(cells), 3):
            lines.append(" ".join(cells[i : i + 3]))
        return "\n".join(lines) + "\n"
    if what == "procs":
        lines = [
            f"{'PID':>5} {'PPID':>5} {'NAME':<16} {'STATE':<9} {'MEMORY':>10} "
            f"{'SYSCALLS':>9} {'CPU_NS':>14}"
        ]
        for p in inspect.processes(k):
            lines.append(
                f"{p['pid']:>5} {p['ppid']:>5} {p['name']!s:<16} {p['state']!s:<9} "
                f"{p['memory']:>10} {p['syscalls']:>9} {p['cpu_time_ns']:>14}"
            )
        return "\n".join(lines) + "\n"
    if what == "bpf":
        lines = ["programs:"]
        for p in inspect.programs(k):
            attached = ",".join(p["attached"]) or "-"  # type: ignore[arg-type]
            lines.append(
                f"  {p['id']}: {p['type']}  name {p['name'] or '-'}  attached {attached}  "
                f"insns {p['insns']}  run_cnt {p['run_cnt']}  run_time_ns {p['run_time_ns']}"
            )
        lines.append("maps:")
        for m in inspect.maps(k):
            extra = f"  used {m['used']}  dropped {m['dropped']}" if "used" in m else ""
            lines.append(
                f"  {m['id']}: {m['type']}  name {m['name'] or '-'}  key {m['bytes_key']}B  "
                f"value {m['bytes_value']}B  max_entries {m['max_entries']}{extra}"
            )
        return "\n".join(lines) + "\n"
    if what == "mtree":
        return _mtree(inspect.memory_tree(k))
    if what == "mem":
        data = inspect.memory_mappings(k, int(rest[1]) if len(rest) > 1 else None)
        lines = [f"pid {data['pid']} ({data['name']})"]
        for m in data["mappings"]:  # type: ignore[attr-defined]
            lines.append(
                f"{m['start']:016x}-{m['end']:016x} {m['size']:016x} {m['prot']} {m['kind']}"
            )
        return "\n".join(lines) + "\n"
    if what in ("gpio", "pwm"):
        return _devices(k.board, what)
    return f"unknown info item {what!r} (registers, procs, bpf, mtree, mem, gpio, pwm)\n"


_SPACES = {
    "mmio": "address-space: memory",
    "io": "address-space: I/O",
    "sysreg": "system registers",
}


def _mtree(windows: list[dict[str, Any]]) -> str:
    """QEMU's `info mtree` layout: one block per address space, `base-end` per window."""
    lines: list[str] = []
    bus = None
    for w in windows:
        if w["bus"] != bus:
            bus = w["bus"]
            lines += ([""] if lines else []) + [_SPACES[bus]]
        where = "(sysreg)" if w["base"] is None else f"{w['base']:016x}-{w['end']:016x} (i/o):"
        irq = "" if w["irq"] is None else f" irq {w['irq']}"
        lines.append(f"  {where} {w['name']} [{w['device']}]{irq}")
    return "\n".join(lines) + "\n"


def _board_part(board: Any, name: str) -> Any:
    part = getattr(board, name, None)
    if part is None:
        raise InspectError(f"this machine has no {name.upper()} (only rpi5 has)")
    return part


def _gpio(board: Any, rest: list[str]) -> str:
    """`gpio PIN LEVEL`: a button press from the monitor (at the current guest time)."""
    if len(rest) != 2 or not all(w.isdigit() for w in rest) or rest[1] not in ("0", "1"):
        raise InspectError("usage: gpio PIN LEVEL (LEVEL 0 or 1)")
    try:
        _board_part(board, "gpio").set_input(int(rest[0]), int(rest[1]))
    except ValueError as err:
        raise InspectError(str(err)) from None
    return ""


def _devices(board: Any, what: str) -> str:
    if what == "gpio":
        gpio = _board_part(board, "gpio")
        cells = [f"{pin:>2}={gpio.level(pin)}" for pin in range(len(gpio.inputs))]
        return "\n".join(" ".join(cells[i : i + 14]) for i in range(0, len(cells), 14)) + "\n"
    lines = []
    for chip, pwm in enumerate(_board_part(board, "pwm")):
        duties = " ".join(f"ch{ch}={pwm.duty_percent(ch)}%" for ch in (1, 2))
        lines.append(f"pwm{chip}: {duties}")
    return "\n".join(lines) + "\n"


def _examine(k: Any, spec: str, rest: list[str]) -> str:
    match = X_FORMAT.match(spec)
    if match is None or not rest:
        return "usage: x/N[xdu][bhwg] ADDR [PID]\n"
    count = int(match[1] or 4)
    fmt = match[2] or "x"
    unit = UNIT[match[3] or "w"]
    try:
        address = int(rest[0], 0)
        pid = int(rest[1]) if len(rest) > 1 else None
    except ValueError:
        return f"error: bad address or pid in {' '.join(rest)!r}\n"
    if not 0 < count <= 4096:
        return "error: count must be 1..4096\n"
    data = inspect.read_memory(k, address, count * unit, pid)
    per_line = max(1, 16 // unit)
    lines = []
    for i in range(0, count, per_line):
        cells = []
        for j in range(i, min(count, i + per_line)):
            value = int.from_bytes(data[j * unit : (j + 1) * unit], "little")
            if fmt == "x":
                cells.append(f"0x{value:0{unit * 2}x}")
            elif fmt == "d":
                cells.append(str(value - (1 << (8 * unit)) if value >> (8 * unit - 1) else value))
            else:
                cells.append(str(value))
        lines.append(f"{address + i * unit:016x}: " + " ".join(cells))
    return "\n".join(lines) + "\n"

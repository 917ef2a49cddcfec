"""`axiom-bpftool`: bpftool's verbs for a running machine, over its monitor socket.

    run-virt --append /bin/bpf_loader --monitor unix:/tmp/axiom.sock &
    axiom-bpftool --sock /tmp/axiom.sock prog list
    axiom-bpftool --sock /tmp/axiom.sock --json map dump id 0

It speaks the monitor's JSON request mode (emulator/monitor/commands.py): one
request line, one reply line. Output mirrors bpftool's plain and `--json` forms;
differences (no loaded_at/uid, `insns`, guest-time run_time_ns) are in the README.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import click

DEFAULT_SOCK_ENV = "AXIOM_MONITOR"
UPDATE_FLAGS = {"any": 0, "noexist": 1, "exist": 2}


class ToolError(Exception):
    """A user-facing failure: bad arguments, no machine, or the monitor's error."""


# ------------------------------------------------------------------ transport


def request(sock_path: Path, execute: str, arguments: dict[str, Any] | None = None) -> Any:
    """Send one JSON request to a monitor socket and return its `return` value."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10.0)
    try:
        sock.connect(str(sock_path))
    except OSError as err:
        sock.close()
        raise ToolError(f"cannot connect to monitor {sock_path}: {err.strerror}") from None
    try:
        line = json.dumps({"execute": execute, "arguments": arguments or {}}) + "\n"
        sock.sendall(line.encode())
        buffer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                raise ToolError("the monitor closed the connection (machine powered off?)")
            buffer += chunk
            reply = _find_reply(buffer)
            if reply is not None:
                break
    except TimeoutError:
        raise ToolError("no reply from the monitor within 10 s") from None
    finally:
        sock.close()
    if "error" in reply:
        raise ToolError(reply["error"].get("desc", "error"))
    return reply.get("return")


def _find_reply(buffer: bytes) -> dict | None:
    """The first complete JSON line (the banner and `(axiom) ` prompt come before it)."""
    for raw in buffer.split(b"\n")[:-1]:
        text = raw.decode(errors="replace")
        start = text.find("{")
        if start >= 0:
            try:
                return json.loads(text[start:])
            except json.JSONDecodeError:
                continue
    return None


# ------------------------------------------------------------------ argument parsing


def _take_id(words: list[str], what: str) -> int:
    if len(words) < 2 or words[0] != "id":
        raise ToolError(f"expected `id N` for the {what}")
    try:
        value = int(words[1], 0)
    except ValueError:
        raise ToolError(f"bad id {words[1]!r}") from None
    del words[:2]
    return value


def parse_bytes(words: list[str], stop: tuple[str, ...] = ()) -> bytes:
    """bpftool's byte lists: `0 0 0 0`, `0x01 0x00`, or `hex 01 00 00 00`."""
    out = bytearray()
    as_hex = False
    if words and words[0] == "hex":
        as_hex = True
        words.pop(0)
    while words and words[0] not in stop:
        word = words.pop(0)
        try:
            value = int(word, 16) if as_hex else int(word, 0)
        except ValueError:
            raise ToolError(f"bad byte {word!r}") from None
        if not 0 <= value <= 255:
            raise ToolError(f"byte {word!r} out of range 0..255")
        out.append(value)
    return bytes(out)


def _take_bytes(words: list[str], keyword: str, stop: tuple[str, ...] = ()) -> bytes:
    if not words or words[0] != keyword:
        raise ToolError(f"expected `{keyword} BYTES`")
    words.pop(0)
    data = parse_bytes(words, stop)
    if not data:
        raise ToolError(f"`{keyword}` needs at least one byte")
    return data


# ------------------------------------------------------------------ plain output


def _hex_bytes(text: str) -> str:
    return " ".join(text[i : i + 2] for i in range(0, len(text), 2))


def format_prog(p: dict) -> str:
    name = f"  name {p['name']}" if p["name"] else ""
    first = (
        f"{p['id']}: {p['type']}{name}  tag {p['tag']}  "
        f"run_time_ns {p['run_time_ns']} run_cnt {p['run_cnt']}"
    )
    maps = ",".join(str(m) for m in p["map_ids"])
    second = f"\txlated {p['bytes_xlated']}B  not jited  insns {p['insns']}" + (
        f"  map_ids {maps}" if maps else ""
    )
    attached = ",".join(p["attached"]) or "none"
    third = f"\tattached {attached}  insns_executed {p['insns_executed']}"
    return "\n".join((first, second, third))


def format_map(m: dict) -> str:
    name = f"  name {m['name']}" if m["name"] else ""
    first = f"{m['id']}: {m['type']}{name}  flags 0x{m['flags']:x}"
    second = f"\tkey {m['bytes_key']}B  value {m['bytes_value']}B  max_entries {m['max_entries']}"
    if "used" in m:
        second += f"\n\tused {m['used']}B  records {m['records']}  dropped {m['dropped']}"
    return first + "\n" + second


def format_entry(e: dict) -> str:
    line = f"key: {_hex_bytes(e['key'])}  value: {_hex_bytes(e['value'])}"
    formatted = e.get("formatted")
    if formatted:
        decoded = " ".join(
            f"{k}={v}"
            for k, v in (("key", formatted["key"]), ("value", formatted["value"]))
            if v is not None
        )
        line += f"\n\t{decoded}"
    return line


def format_record(i: int, r: dict) -> str:
    line = f"record {i}: {_hex_bytes(r['value'])}"
    if "formatted" in r:
        line += f"\n\tvalue={r['formatted']['value']}"
    return line


def _found(n: int) -> str:
    return f"Found {n} element{'s' if n != 1 else ''}"


# ------------------------------------------------------------------ verbs


def run(sock: Path, words: list[str], as_json: bool) -> str:
    """Execute one bpftool-style command line; returns what to print."""
    if len(words) < 2:
        raise ToolError(
            "usage: prog {list|show|dump xlated} ... | map {list|show|dump|lookup|"
            "update|delete|peek} ..."
        )
    obj, verb, rest = words[0], words[1], list(words[2:])
    if obj == "prog":
        return _prog(sock, verb, rest, as_json)
    if obj == "map":
        return _map(sock, verb, rest, as_json)
    raise ToolError(f"unknown object {obj!r} (prog or map)")


def _out(data: Any, as_json: bool, plain: str) -> str:
    return json.dumps(data) if as_json else plain


def _prog(sock: Path, verb: str, rest: list[str], as_json: bool) -> str:
    if verb in ("list", "show"):
        if rest:
            prog = request(sock, "prog-show", {"id": _take_id(rest, "program")})
            return _out(prog, as_json, format_prog(prog))
        progs = request(sock, "prog-list")
        return _out(progs, as_json, "\n".join(format_prog(p) for p in progs))
    if verb == "dump":
        if not rest or rest.pop(0) != "xlated":
            raise ToolError("only `prog dump xlated id N` (there is no JIT)")
        insns = request(sock, "prog-dump-xlated", {"id": _take_id(rest, "program")})
        plain = "\n".join(f"{i['pc']:4}: ({i['opcode']:02x}) {i['text']}" for i in insns)
        return _out(insns, as_json, plain)
    raise ToolError(f"unknown prog verb {verb!r} (list, show, dump)")


def _map(sock: Path, verb: str, rest: list[str], as_json: bool) -> str:
    if verb in ("list", "show"):
        if rest:
            m = request(sock, "map-show", {"id": _take_id(rest, "map")})
            return _out(m, as_json, format_map(m))
        maps = request(sock, "map-list")
        return _out(maps, as_json, "\n".join(format_map(m) for m in maps))
    map_id = _take_id(rest, "map")
    if verb == "dump":
        entries = request(sock, "map-dump", {"id": map_id})
        plain = "\n".join([*(format_entry(e) for e in entries), _found(len(entries))])
        return _out(entries, as_json, plain)
    if verb == "peek":
        records = request(sock, "map-peek", {"id": map_id})
        plain = "\n".join(
            [*(format_record(i, r) for i, r in enumerate(records)), _found(len(records))]
        )
        return _out(records, as_json, plain)
    if verb == "lookup":
        key = _take_bytes(rest, "key")
        e = request(sock, "map-lookup", {"id": map_id, "key": key.hex()})
        return _out(e, as_json, format_entry(e))
    if verb == "update":
        key = _take_bytes(rest, "key", ("value",))
        value = _take_bytes(rest, "value", tuple(UPDATE_FLAGS))
        flags = UPDATE_FLAGS[rest.pop(0)] if rest and rest[0] in UPDATE_FLAGS else 0
        args = {"id": map_id, "key": key.hex(), "value": value.hex(), "flags": flags}
        request(sock, "map-update", args)
        return _out(None, as_json, "")
    if verb == "delete":
        key = _take_bytes(rest, "key")
        request(sock, "map-delete", {"id": map_id, "key": key.hex()})
        return _out(None, as_json, "")
    raise ToolError(f"unknown map verb {verb!r} (list, show, dump, lookup, update, delete, peek)")


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "ignore_unknown_options": True}
)
@click.option(
    "--sock",
    type=click.Path(path_type=Path),
    default=None,
    help=f"The machine's monitor socket (run-virt --monitor unix:PATH) [env {DEFAULT_SOCK_ENV}].",
)
@click.option("--json", "-j", "as_json", is_flag=True, help="JSON output, as bpftool -j.")
@click.option("--pretty", "-p", is_flag=True, help="Indented JSON (implies --json).")
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
def main(sock: Path | None, as_json: bool, pretty: bool, words: tuple[str, ...]) -> None:
    """bpftool for a running axiom-virt machine: prog list|show|dump xlated, map
    list|show|dump|lookup|update|delete|peek."""
    if sock is None:
        env = os.environ.get(DEFAULT_SOCK_ENV)
        if not env:
            click.echo(
                f"axiom-bpftool: error: give --sock PATH or set {DEFAULT_SOCK_ENV}", err=True
            )
            sys.exit(2)
        sock = Path(env)
    try:
        text = run(sock, list(words), as_json or pretty)
    except ToolError as err:
        if as_json or pretty:
            click.echo(json.dumps({"error": str(err)}))
        click.echo(f"axiom-bpftool: error: {err}", err=True)
        sys.exit(1)
    if pretty and text:
        text = json.dumps(json.loads(text), indent=4)
    if text:
        click.echo(text)


if __name__ == "__main__":
    main()

"""Source lines in verifier logs from .BTF.ext line info (kernel/bpf/elf/lineinfo.py)."""

from __future__ import annotations

import struct

import pytest

from kernel.bpf.elf import ElfVerifierError, load_object, parse_object
from kernel.bpf.elf.btf import BTF_MAGIC
from kernel.bpf.elf.lineinfo import annotate_log, source_line
from kernel.bpf.errors import BpfError
from kernel.bpf.runtime.maps import MapTable
from tests.bpf.c_elf import compile_object, compile_source

REJECTED_LOG = """\
program 'no_null_check' (section 'timer'), at rejected.c:12:
; SEC("timer") int no_null_check(struct bpf_context *ctx) @ rejected.c:8
0: (b4) w1 = 0
; __u32 key = 0; @ rejected.c:10
1: (63) *(u32 *)(r10 -4) = r1
2: (bf) r2 = r10
3: (07) r2 += -4
; __u64 *v = bpf_map_lookup_elem(&values, &key); @ rejected.c:11
4: (18) r1 = map 'values' ll
6: (85) call map_lookup_elem#5
; return (int)*v; @ rejected.c:12
7: (79) r0 = *(u64 *)(r0 +0)
R0=map_value_or_null(id=2,map=values,ks=4,vs=8) R10=fp0 fp-8=0000????
7: R0 invalid mem access 'map_value_or_null'
processed 7 insns (limit 1000000) max_states_per_insn 1 total_states 1 stack_depth 8
"""


def _reject(data: bytes) -> ElfVerifierError:
    with pytest.raises(ElfVerifierError) as exc:
        load_object(data, MapTable())
    return exc.value


def test_rejection_log_interleaves_source_lines_like_linux() -> None:
    err = _reject(compile_object("rejected"))
    assert err.log == REJECTED_LOG
    assert err.source is not None
    assert (err.source.file, err.source.line, err.source.text.strip()) == (
        "rejected.c",
        12,
        "return (int)*v;",
    )


def test_without_btf_the_log_is_plain() -> None:
    err = _reject(compile_object("rejected", btf=False))
    assert err.source is None
    assert err.log.startswith("program 'no_null_check' (section 'timer'):\n0: (b4) w1 = 0\n")
    assert "; " not in err.log


def test_lines_follow_code_into_called_functions(tmp_path) -> None:
    src = tmp_path / "sub.bpf.c"
    src.write_text(
        '#include "axiom_bpf.h"\n'
        "static __noinline int deref(__u64 *p)\n"
        "{\n"
        "    return (int)*(p + 1000);\n"
        "}\n"
        'SEC("timer") int outer(struct bpf_context *ctx)\n'
        "{\n"
        "    __u64 v = 1;\n"
        "    return deref(&v);\n"
        "}\n"
    )
    err = _reject(compile_source(src))
    assert err.source is not None and (err.source.file, err.source.line) == ("sub.bpf.c", 4)
    assert "; return deref(&v); @ sub.bpf.c:9" in err.log
    assert err.log.index("@ sub.bpf.c:9") < err.log.index(
        "; return (int)*(p + 1000); @ sub.bpf.c:4"
    )


def test_line_records_cover_every_program_of_the_example() -> None:
    parsed = parse_object(compile_object("btf_kinds"))
    ext = parsed.btf_ext
    assert ext is not None
    assert ext.funcs == {"timer": {0: "probe"}, ".text": {0: "helper"}}
    lines = ext.lines["timer"]
    assert min(lines) == 0 and all(rec.file == "btf_kinds.c" for rec in lines.values())


def test_annotate_and_source_line_helpers() -> None:
    parsed = parse_object(compile_object("rejected"))
    recs = parsed.btf_ext.lines["timer"]
    first = min(recs)
    lines = {0: recs[first], 3: recs[sorted(recs)[1]]}
    log = "0: (b4) w1 = 0\n1: (b4) w2 = 0\n3: (95) exit\n3: bad\n"
    out = annotate_log(log, lines).splitlines()
    assert out[0].startswith("; ") and out[1] == "0: (b4) w1 = 0"
    assert out[3].startswith("; ") and out[4] == "3: (95) exit" and out[5] == "3: bad"
    assert source_line(lines, 2) == lines[0] and source_line(lines, 9) == lines[3]
    assert source_line(lines, -1) is None


def test_malformed_btf_ext_is_refused() -> None:
    obj = bytearray(compile_object("rejected"))
    magic = struct.pack("<HBB", BTF_MAGIC, 1, 0)
    first = obj.index(magic)
    ext = obj.index(magic, first + 4)  # .BTF comes first, then .BTF.ext
    hdr_len, _f_off, _f_len, l_off = struct.unpack_from("<IIII", obj, ext + 4)
    struct.pack_into("<I", obj, ext + hdr_len + l_off, 3)  # line_info record size 3
    with pytest.raises(BpfError) as exc:
        load_object(bytes(obj), MapTable())
    assert exc.value.message == "BTF.ext: line_info record size 3 (expected at least 16)"

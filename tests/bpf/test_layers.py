"""The BPF library's layers import only downward (kernel/bpf/README.md, "Layers").

`kernel/bpf/` is a library: it may use the ABI numbers of `kernel.abi` and itself,
never the kernel model (`kernel.bpf_attach`, drivers, the tracer ...) or the
emulator. Inside it, `isa/` stands alone, the verifier never reaches into the
interpreter, and the runtime uses only the interpreter's memory model (and the
VM's execution-state type, for annotations).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "kernel" / "bpf"

# layer -> the kernel.bpf modules (prefixes) it may import, besides itself
ALLOWED = {
    "isa": ("kernel.bpf.errors",),
    "interp": ("kernel.bpf.isa", "kernel.bpf.errors", "kernel.bpf.runtime"),
    "runtime": (
        "kernel.bpf.isa",
        "kernel.bpf.errors",
        "kernel.bpf.interp.memory",
        "kernel.bpf.interp.vm",
    ),
    "verifier": (
        "kernel.bpf.isa",
        "kernel.bpf.errors",
        "kernel.bpf.runtime.helper_protos",
        "kernel.bpf.runtime.printk",
    ),
}


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return names


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_library_needs_only_the_abi_and_itself() -> None:
    bad = [
        f"{path.relative_to(LIB)}: {name}"
        for path in sorted(LIB.rglob("*.py"))
        for name in _imports(path)
        if (_within(name, "kernel") or _within(name, "emulator"))
        and not (_within(name, "kernel.bpf") or _within(name, "kernel.abi") or name == "kernel")
    ]
    assert bad == []


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_downward(layer: str) -> None:
    own = f"kernel.bpf.{layer}"
    allowed = (own, *ALLOWED[layer])
    files = sorted((LIB / layer).rglob("*.py"))
    assert files
    bad = [
        f"{path.relative_to(LIB)}: {name}"
        for path in files
        for name in _imports(path)
        if _within(name, "kernel.bpf")
        and name != "kernel.bpf"
        and not any(_within(name, a) for a in allowed)
    ]
    assert bad == []

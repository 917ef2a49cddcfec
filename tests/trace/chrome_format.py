"""A checker for the trace format run-virt writes (README: "Trace file format"), so
tests fail on a malformed file rather than on a viewer's silence."""

from __future__ import annotations

from collections import defaultdict

PHASES = {"X", "i", "C", "M"}


def validate(doc: dict) -> list[dict]:
    """Assert `doc` is a well-formed trace; returns its events."""
    assert set(doc) == {"displayTimeUnit", "otherData", "traceEvents"}, set(doc)
    assert doc["displayTimeUnit"] == "ns"
    assert doc["otherData"]["format"] == "axiom-virt trace 1"
    events = doc["traceEvents"]
    assert isinstance(events, list) and events
    stacks: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for e in events:
        assert e["ph"] in PHASES, e
        assert isinstance(e["pid"], int) and isinstance(e["name"], str), e
        if e["ph"] == "M":
            assert e["name"] in ("process_name", "thread_name"), e
            assert isinstance(e["args"]["name"], str)
            continue
        assert isinstance(e["ts"], int | float) and e["ts"] >= 0, e
        assert e["cat"] in ("syscall", "sched", "irq", "bpf", "mem"), e
        assert isinstance(e["args"], dict), e
        if e["ph"] == "X":
            assert isinstance(e["tid"], int) and e["dur"] >= 0, e
            stacks[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"]))
        elif e["ph"] == "i":
            assert e["s"] == "t" and isinstance(e["tid"], int), e
        else:
            assert all(isinstance(v, int) for v in e["args"].values()), e
    for track, spans in stacks.items():  # slices on one track nest, never overlap partly
        spans.sort(key=lambda s: (s[0], -s[1]))
        open_: list[float] = []
        for start, end in spans:
            while open_ and open_[-1] <= start + 1e-6:
                open_.pop()
            assert not open_ or end <= open_[-1] + 1e-6, (track, start, end, open_)
            open_.append(end)
    return events

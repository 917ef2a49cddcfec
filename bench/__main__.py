"""Run every benchmark section, print a table, write build/bench.json."""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

SECTIONS = ("bench.machine_bench", "bench.bpf_bench", "bench.verifier_bench", "bench.demo_bench")
OUT = Path(__file__).resolve().parent.parent / "build" / "bench.json"


def main(argv: list[str]) -> int:
    wanted = [s for s in SECTIONS if not argv or any(a in s for a in argv)]
    results: list[dict] = []
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        started = time.perf_counter()
        rows = module.run()
        for r in rows:
            r.setdefault("arch", "")
            r["section"] = name.split(".")[-1]
        results.extend(rows)
        print(f"# {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    width = max((len(r["name"]) for r in results), default=10)
    print(f"{'benchmark':<{width}}  {'arch':<8} {'value':>12}  unit")
    for r in results:
        print(f"{r['name']:<{width}}  {r['arch']:<8} {r['value']:>12}  {r['unit']}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"python": platform.python_version(), "results": results}, indent=2))
    print(f"\nwrote {OUT}")
    return 0


sys.exit(main(sys.argv[1:]))

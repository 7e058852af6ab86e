"""Runs every benchmark module of this package in name order (``make bench``), or the ones named."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks

SKIP = {"report"}


def main(names: list[str]) -> int:
    modules = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))
    for name in names or modules:
        if name in SKIP:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        if hasattr(module, "main"):
            print(f"== benchmark {name}", flush=True)
            module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

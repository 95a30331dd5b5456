"""Strip outputs and execution counts from notebooks (they are committed clean)."""

from __future__ import annotations

import sys

import nbformat


def strip(path: str) -> bool:
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count):
            cell.outputs = []
            cell.execution_count = None
            changed = True
        # keep only the cell tags (e.g. "nondeterministic", read by tests/test_notebooks.py)
        kept = {"tags": cell.metadata["tags"]} if cell.metadata.get("tags") else {}
        if cell.metadata != kept:
            cell.metadata = kept
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


if __name__ == "__main__":
    for p in sys.argv[1:]:
        if strip(p):
            print(f"stripped {p}")

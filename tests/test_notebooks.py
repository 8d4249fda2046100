"""Runs every notebook's code cells in order, in one namespace (no Jupyter kernel needed)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    code = [("".join(c["source"])) for c in cells if c["cell_type"] == "code"]
    assert code, f"{notebook.name} has no code cells"
    namespace: dict = {"__name__": "__notebook__"}
    for index, source in enumerate(code):
        try:
            exec(compile(source, f"{notebook.name}[cell {index}]", "exec"), namespace)
        except Exception as err:  # the cell index makes failures findable
            raise AssertionError(f"{notebook.name}: code cell {index} failed: {err!r}") from err

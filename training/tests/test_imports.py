"""Every training module imports on its own, in a fresh interpreter (an import cycle that works
only in one order, or an import hidden in a function, shows up here)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "training").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_alone(name):
    r = subprocess.run([sys.executable, "-c", f"import training.{name}"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_no_import_inside_functions():
    for name in MODULES:
        for i, line in enumerate((ROOT / "training" / f"{name}.py").read_text().splitlines(), start=1):
            stripped = line.lstrip()
            if line != stripped and (stripped.startswith("from .") or stripped.startswith("import training")):
                pytest.fail(f"training/{name}.py:{i}: import inside a function: {stripped}")

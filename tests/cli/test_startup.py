"""The command line starts without the heavy libraries (issue 14: fast start).

A check of what gets imported, not a timing assertion (timings are in
``benchmarks/bench_startup.py``): a fresh interpreter imports the CLI, builds every parser
and runs a command that does not sample; none of PyMC, ArviZ, PyTensor, nutpie, numba,
matplotlib, nibabel, Dask or scikit-learn may be loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pymc", "arviz", "pytensor", "nutpie", "numba", "matplotlib", "nibabel", "dask",
         "sklearn")


def _loaded(code: str) -> list[str]:
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_cli_and_build_parser_loads_no_heavy_library():
    assert _loaded("import alsstats.cli\nalsstats.cli.build_parser()") == []


def test_help_loads_not_even_numpy_or_pandas():
    code = ("import alsstats.cli\nalsstats.cli.build_parser()\n"
            "assert not {'numpy', 'pandas', 'scipy'} & set(sys.modules), "
            "sorted({'numpy', 'pandas', 'scipy'} & set(sys.modules))")
    assert _loaded(code) == []


def test_power_slope_runs_without_scipy_or_heavy_libraries():
    code = ("from alsstats.cli import main\n"
            "assert main(['power', 'slope', '--times', '0,0.5,1', '--delta', '1',"
            " '--var-slope', '8', '--var-residual', '10', '--power', '0.8']) == 0\n"
            "assert 'scipy' not in sys.modules")
    assert _loaded(code) == []

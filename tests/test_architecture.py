"""The import rules of docs/architecture.md, read from the source with ``ast`` (no module is imported).

* ``toolkit`` is model-free: it imports nothing from ``pysot``, ``tools`` or ``torch``.
* ``pysot`` and ``toolkit`` never import ``tools`` (tools are thin command lines over the library).
* Inside ``toolkit`` a module imports only modules of its own layer or below (:data:`LAYERS`):
  conventions at the bottom, then metric kernels, datasets and result files, the run loop, the
  runner and the aggregation, the report, plots and benchmarks on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Layer of each toolkit module (a module may import its own layer and the layers below). A
#: subpackage's modules default to their package's entry; a new top-level module must be placed here.
LAYERS: dict[str, int] = {
    # 0: conventions and plumbing that everything may use
    "toolkit": 0,
    "toolkit.boxes": 0,
    "toolkit.rules": 0,
    "toolkit.fileio": 0,
    "toolkit.cli": 0,
    # 1: the VOT region overlap kernel
    "toolkit.evaluation.region": 1,
    # 2: pure metrics, datasets, result files
    "toolkit.evaluation": 2,
    "toolkit.datasets": 2,
    "toolkit.results": 2,
    "toolkit.run_folder": 2,
    # 3: running a tracker over a sequence
    "toolkit.protocols": 3,
    "toolkit.demo": 3,
    # 4: running a benchmark; reading result folders into metrics
    "toolkit.runner": 4,
    "toolkit.evaluation.aggregate": 4,
    # 5: the report (PySOT's tables, JSON)
    "toolkit.evaluation.tables": 5,
    "toolkit.evaluation.json_report": 5,
    "toolkit.evaluation.report": 5,
    # 6: plots of a report, benchmark generators
    "toolkit.visualization": 6,
    "toolkit.bench": 6,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every import in a file, at any depth (functions, TYPE_CHECKING blocks),
    relative imports resolved; ``from pkg import name`` counts as ``pkg.name`` when that is a module."""
    module = _module_name(path)
    package = module if _is_package(path) else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = (REPO / Path(*candidate.split("."))).with_suffix(".py").is_file() or (
                    REPO / Path(*candidate.split(".")) / "__init__.py"
                ).is_file()
                out.append((node.lineno, candidate if is_module else base))
    return out


def _files(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _top(name: str) -> str:
    return name.split(".")[0]


def layer(module: str) -> int:
    """The layer of a toolkit module: its own entry, else its nearest subpackage's (a module directly
    in ``toolkit/`` needs its own entry)."""
    name = module
    while name not in LAYERS:
        name = name.rpartition(".")[0]
        if "." not in name:
            raise KeyError(module)
    return LAYERS[name]


def test_the_walk_finds_imports():
    # the checks below would pass vacuously if the parsing found nothing
    found = dict((m, line) for line, m in _imports(REPO / "toolkit" / "evaluation" / "aggregate.py"))
    expected = {"toolkit.results", "toolkit.rules", "toolkit.evaluation.ar", "toolkit.evaluation.region"}
    assert expected <= set(found)
    assert "toolkit.evaluation.vot_official" in found  # a lazy import inside a function
    assert "toolkit.datasets" in found  # under TYPE_CHECKING
    pysot_imports = {m for f in _files("pysot") for _, m in _imports(f)}
    assert "toolkit.boxes" in pysot_imports  # pysot may import toolkit


def test_toolkit_is_model_free():
    bad = [
        f"{f.relative_to(REPO)}:{line}: imports {m}"
        for f in _files("toolkit")
        for line, m in _imports(f)
        if _top(m) in ("pysot", "tools", "torch")
    ]
    assert not bad, "toolkit must not import pysot, tools or torch:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", ["pysot", "toolkit"])
def test_library_does_not_import_tools(package):
    bad = [
        f"{f.relative_to(REPO)}:{line}: imports {m}" for f in _files(package) for line, m in _imports(f)
        if _top(m) == "tools"
    ]
    assert not bad, f"{package} must not import the command-line tools:\n" + "\n".join(bad)


def test_every_toolkit_module_has_a_layer():
    missing = []
    for f in _files("toolkit"):
        try:
            layer(_module_name(f))
        except KeyError:
            missing.append(_module_name(f))
    assert not missing, f"place these modules in LAYERS (and docs/architecture.md): {missing}"
    with pytest.raises(KeyError):
        layer("toolkit.new_module")  # a new top-level module does not inherit the package's layer
    assert layer("toolkit.evaluation.new_kernel") == LAYERS["toolkit.evaluation"]


def test_toolkit_imports_only_downwards():
    bad = []
    for f in _files("toolkit"):
        own = layer(_module_name(f))
        for line, m in _imports(f):
            if _top(m) == "toolkit" and layer(m) > own:
                bad.append(f"{f.relative_to(REPO)}:{line}: layer {own} imports {m} (layer {layer(m)})")
    assert not bad, "toolkit imports upwards (see docs/architecture.md):\n" + "\n".join(bad)

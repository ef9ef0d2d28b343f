"""Every module a stage runs is one of its DVC deps, so a code change reruns the stages it affects.

DVC only knows what ``dvc.yaml`` lists. A stage whose code imports a module
that is not among its deps keeps its cached outputs after that module changes
(a stale result), and a dep that names a file the code no longer has breaks
``dvc repro`` outright (as a module turned into a package would). This test
follows each stage's imports inside the package, statically, and checks both.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"

# How params are read, paths found, errors raised and files written whole:
# every stage uses these, and a change there does not change what a stage
# computes. Listing them would rerun the whole pipeline for a reworded error.
FOUNDATION = {
    "src/sketch2color/__init__.py",
    "src/sketch2color/atomic.py",
    "src/sketch2color/config.py",
    "src/sketch2color/data/__init__.py",
    "src/sketch2color/errors.py",
    "src/sketch2color/logs.py",
    "src/sketch2color/paths.py",
    "src/sketch2color/stage_runner.py",
}


def _module_file(name: str) -> Path | None:
    path = SRC.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return None


def _imported_modules(file: Path, module: str) -> set[str]:
    """Package modules ``file`` imports, anywhere in it (lazy imports too), with their parent packages."""
    package = module if file.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(file.read_text())
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if _is_type_checking_block(node)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue  # `if TYPE_CHECKING:` imports never run
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.add(source)
            lazy = _lazy_exports(source)
            for alias in node.names:
                if _module_file(f"{source}.{alias.name}"):
                    found.add(f"{source}.{alias.name}")
                elif alias.name in lazy:  # a name the package imports on first use
                    found.add(lazy[alias.name])
    ours = {name for name in found if name.split(".")[0] == "sketch2color"}
    return {".".join(name.split(".")[:end]) for name in ours for end in range(1, name.count(".") + 2)}


def _lazy_exports(package: str) -> dict[str, str]:
    """A package's ``_EXPORTS`` map (name -> module it is imported from on first use), if it has one."""
    init = _module_file(package)
    if init is None or init.name != "__init__.py":
        return {}
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_EXPORTS" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _closure(start: str) -> set[Path]:
    seen: set[str] = set()
    files: set[Path] = set()
    pending = [start]
    while pending:
        module = pending.pop()
        file = _module_file(module)
        if module in seen or file is None:
            continue
        seen.add(module)
        files.add(file)
        pending.extend(_imported_modules(file, module))
    return files


def _stages() -> dict[str, dict]:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def _entry_module(stage: str) -> str:
    script = (REPO / "stages" / f"{stage}.py").read_text()
    match = re.search(r'run_stage\("([\w.]+):\w+"\)', script)
    assert match, f'stages/{stage}.py does not call run_stage("module:function")'
    return match.group(1)


def _covered(file: str, deps: list[str]) -> bool:
    return any(file == dep or file.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.mark.parametrize("stage", sorted(_stages()))
def test_a_stage_depends_on_every_module_it_runs(stage):
    deps = _stages()[stage]["deps"]
    used = {str(path.relative_to(REPO)) for path in _closure(_entry_module(stage))}
    missing = sorted(file for file in used - FOUNDATION if not _covered(file, deps))
    assert not missing, f"dvc.yaml stage '{stage}' runs code it does not list in deps: {missing}"
    assert f"stages/{stage}.py" in deps


@pytest.mark.parametrize("stage", sorted(_stages()))
def test_every_code_dep_of_a_stage_exists(stage):
    code = [dep for dep in _stages()[stage]["deps"] if dep.startswith(("src/", "stages/"))]
    absent = [dep for dep in code if not (REPO / dep).exists()]
    assert not absent, f"dvc.yaml stage '{stage}' lists code that does not exist: {absent}"


def test_training_does_not_depend_on_the_picture_code():
    """Registration is export's: an edit to the picture code (inference/, serving) never retrains."""
    deps = _stages()["train"]["deps"]
    picture_code = ("src/sketch2color/inference", "src/sketch2color/serving", "src/sketch2color/export")
    assert not [dep for dep in deps if dep.startswith(picture_code)], deps
    used = {str(path.relative_to(REPO)) for path in _closure(_entry_module("train"))}
    assert not [file for file in used if file.startswith(picture_code)], sorted(used)


def test_export_depends_on_every_module_the_registered_model_ships():
    from sketch2color.export.registration import serving_modules

    deps = _stages()["export"]["deps"]
    shipped = {f"src/{path.as_posix()}" for path in serving_modules()}
    missing = sorted(file for file in shipped - FOUNDATION if not _covered(file, deps))
    assert not missing, f"the registered colorizer ships code export does not list in deps: {missing}"

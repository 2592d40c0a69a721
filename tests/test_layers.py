"""The rooms of sgan_core and dashboard import one way (docs/architecture.md):

    data  <-  config, snapshot  <-  training, features  <-  runs  <-  storage  <-  studies
          <-  cli  <-  dashboard

A module may import its own room and the rooms below it, never a room beside or above
it: so features and studies never reach into training's beside them, data and training
know nothing of runs, files, studies, the feature map, the CLI or the page, and no two
rooms import each other. Imports inside functions count too (a late import is the same
dependency, only hidden); imports under `if TYPE_CHECKING:` do not (they only name
types). The graph is read with ast, so nothing is imported to check it.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Optional

from tests.test_imports import imported_names, module_files

ROOT = Path(__file__).resolve().parents[1]
# Each room's rank: a room may import rooms of a lower rank only. "package" is
# sgan_core/__init__.py, a docstring that `from sgan_core import x` runs first.
RANKS = {"package": -1, "data": 0, "threads": 0, "config": 1, "snapshot": 2, "training": 3,
         "features": 3, "runs": 4, "storage": 5, "studies": 6, "cli": 7, "entry": 8,
         "dashboard": 9}
TOP_LEVEL = {"sgan_core.config": "config", "sgan_core.snapshot": "snapshot",
             "sgan_core.threads": "threads", "sgan_core": "package",
             "sgan_core.__main__": "entry"}
MAX_TOP_LEVEL = 8  # modules beside the rooms in each package


def room_of(module: str) -> Optional[str]:
    """The room a module lives in; None for modules outside the product."""
    if module.startswith("dashboard"):
        return "dashboard"
    if module in TOP_LEVEL:
        return TOP_LEVEL[module]
    parts = module.split(".")
    if parts[0] == "sgan_core" and len(parts) >= 2 and parts[1] in RANKS:
        return parts[1]
    return None


def runtime_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, in functions too, but those under `if TYPE_CHECKING:`."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def room_edges(root: Path = ROOT) -> set[tuple[str, str, str, str]]:
    """(importing module, its room, imported module, its room) across rooms."""
    modules = module_files(root, ("sgan_core", "dashboard"))
    edges = set()
    for name, path in modules.items():
        source = room_of(name)
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in runtime_imports(tree):
            for target in imported_names(node, name, path.name == "__init__.py"):
                target_room = room_of(target) if target in modules else None
                if target_room and source and target_room != source:
                    edges.add((name, source, target, target_room))
    return edges


def test_every_product_module_has_a_room():
    modules = module_files(ROOT, ("sgan_core", "dashboard"))
    assert [name for name in modules if room_of(name) is None] == []


def test_rooms_import_only_the_rooms_below_them():
    upward = sorted(f"{module} ({room}) imports {target} ({target_room})"
                    for module, room, target, target_room in room_edges()
                    if RANKS[target_room] >= RANKS[room])
    assert upward == [], "\n".join(upward)


def test_each_package_keeps_few_modules_beside_its_rooms():
    for package in ("sgan_core", "dashboard"):
        modules = [path.name for path in (ROOT / package).glob("*.py")]
        assert len(modules) <= MAX_TOP_LEVEL, f"{package}: {sorted(modules)}"
        for room in (ROOT / package).iterdir():
            if room.is_dir() and room.name != "__pycache__":
                init = room / "__init__.py"
                assert init.is_file() and ast.get_docstring(ast.parse(init.read_text())), (
                    f"{room}: every room says what it is for in its __init__.py")


def test_the_checker_sees_a_room_reaching_up_and_ignores_type_only_imports(tmp_path):
    training = tmp_path / "sgan_core" / "training"
    training.mkdir(parents=True)
    (tmp_path / "sgan_core" / "__init__.py").write_text("")
    (training / "__init__.py").write_text('"""Training."""\n')
    runs = tmp_path / "sgan_core" / "runs"
    runs.mkdir()
    (runs / "__init__.py").write_text('"""Runs."""\n')
    (runs / "thread.py").write_text("X = 1\n")
    (training / "step.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from sgan_core.runs.thread import X\n")
    (tmp_path / "dashboard").mkdir()
    assert room_edges(tmp_path) == set()
    (training / "step.py").write_text("def late():\n    from sgan_core.runs import thread\n")
    assert ("sgan_core.training.step", "training", "sgan_core.runs.thread",
            "runs") in room_edges(tmp_path)


def test_studies_reach_no_training_internals():
    """A study drives runs (sgan_core.runs) and reads their figures; how a step trains
    is the run's business, so a change of the trainer never touches the studies."""
    reaching = sorted(f"{module} imports {target}" for module, room, target, target_room
                      in room_edges() if room == "studies" and target_room == "training")
    assert reaching == [], "\n".join(reaching)

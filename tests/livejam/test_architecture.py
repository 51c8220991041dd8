"""The house rules of docs/ARCHITECTURE.md, read off every import in livejam/
(module level and inside functions alike), so a later change cannot quietly
break them."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "livejam"
TOP = {"__init__", "__main__", "errors", "threads"}  # what every wing may use
# Each wing, and the wings it may import (the table in docs/ARCHITECTURE.md).
MAY_IMPORT = {
    "midi": set(),
    "model": set(),
    "settings": set(),
    "harmony": {"settings"},
    "timing": {"midi", "model"},
    "recording": {"midi"},
    "conversation": {"harmony", "midi", "model", "settings", "timing", "recording"},
    "sound": {"midi"},
    "offline": {"harmony", "midi", "model", "settings", "timing", "recording", "conversation", "sound"},
    "bench": {"harmony", "midi", "model", "settings", "timing", "recording", "conversation", "offline", "sound"},
    "app": {"harmony", "midi", "model", "settings", "timing", "recording", "conversation", "offline", "bench", "sound"},
}
MAX_TOP_MODULES, MAX_WING_MODULES, MAX_LINES = 8, 12, 400


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        out[".".join(("livejam", *parts))] = path
    return out


def imports_of(name: str, path: Path) -> set[str]:
    """Every module `name` imports (absolute names), wherever in the file."""
    package = name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import vocab` names modules, not attributes
            found |= {f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in ALL}
    return found


ALL = modules()
GRAPH = {name: imports_of(name, path) for name, path in ALL.items()}


def wing(name: str) -> str:
    parts = name.split(".")
    if len(parts) == 2 or parts[1] in TOP:
        return "top"
    return parts[1]


def test_each_wing_imports_only_the_wings_below_it():
    broken = []
    for name, targets in GRAPH.items():
        w = wing(name)
        for t in targets:
            if not t.startswith("livejam") or t == "livejam":
                continue
            tw = wing(t)
            if tw in ("top", w):
                continue
            if w == "top" and name != "livejam.__main__" or w != "top" and tw not in MAY_IMPORT[w]:
                broken.append(f"{name} imports {t}")
    assert not broken, broken


@pytest.mark.parametrize("library, allowed", [
    ("torch", ()), ("training", ()),
    ("onnxruntime", ("livejam.model.onnx_model",)),
    ("textual", ("livejam.app.tui.",)),
])
def test_heavy_and_outside_imports_stay_where_they_belong(library, allowed):
    users = sorted(n for n, targets in GRAPH.items()
                   if any(t == library or t.startswith(library + ".") for t in targets))
    assert all(any(u == a or (a.endswith(".") and u.startswith(a)) for a in allowed) for u in users), users


def test_no_import_cycles_between_modules():
    edges = {n: {t for t in ts if t in ALL and t != n} for n, ts in GRAPH.items()}
    # Importing a module imports its packages' __init__ too; those are one-line docstrings.
    for n in ALL:
        if n.endswith("__init__"):
            assert not edges[n], f"{n} imports {edges[n]}: keep package openings free of imports"
    state: dict[str, int] = {}

    def visit(n, path):
        state[n] = 1
        for t in edges[n]:
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(t):] + [t]) if t in path else t)
            if t not in state:
                visit(t, path + [t])
        state[n] = 2

    for n in edges:
        if n not in state:
            visit(n, [n])


def test_the_house_stays_walkable():
    top = [p for p in PACKAGE.glob("*.py")]
    assert len(top) <= MAX_TOP_MODULES, [p.name for p in top]
    for folder in [p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__"]:
        mods = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(mods) <= MAX_WING_MODULES, (folder.name, len(mods))
        opening = (folder / "__init__.py").read_text().strip()
        assert opening.startswith('"""') and opening.count("\n") == 0, f"{folder.name}/__init__.py: one line of what it holds"
    long = {n: len(p.read_text().splitlines()) for n, p in ALL.items() if len(p.read_text().splitlines()) > MAX_LINES}
    assert not long, long


NOTIFICATION_CALLBACKS = ("set_xrun_callback", "set_port_registration_callback", "set_port_connect_callback",
                          "set_port_rename_callback", "set_graph_order_callback", "set_client_registration_callback",
                          "set_blocksize_callback", "set_samplerate_callback", "set_freewheel_callback",
                          "set_property_change_callback")


def test_no_python_callback_on_jacks_notification_thread():
    """docs/ARCHITECTURE.md: beside rtmidi's GIL-holding server calls, such a callback
    can stop the JACK server for every client (a CI run hung on one)."""
    tests = PACKAGE.parent / "tests"
    found = []
    for path in sorted([*PACKAGE.rglob("*.py"), *tests.rglob("*.py")]):
        if path == Path(__file__).resolve():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in NOTIFICATION_CALLBACKS:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.attr}")
    assert not found, found

"""The house by stage: the package's layout holds to its plan (docs/architecture.md).

Imports are read from the source (every ``import`` and ``from ... import``, at any depth, type
checking ones included): no circle between modules, and no module imports a stage above its
own. Layers, lowest first; a module may import its own layer and those below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "audiofeed"
LAYERS = [
    {"names", "problems", "timecode", "defaults", "channel", "storage", "interrupts", "text", "exits", "__init__"},  # foundation
    {"read"},
    {"speech"},
    {"audio"},
    {"publish"},
    {"build"},
    {"check"},
    {"serving"},
    {"config"},
    {"cli"},
    {"entry", "__main__"},
]
MAX_TOP_LEVEL_MODULES = 14
MAX_LINES = 450


def modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
            for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path) -> set[str]:
    """The audiofeed modules ``name`` imports (a package counts as its ``__init__``)."""
    known = modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [f"{target}.{a.name}" for a in node.names] + [target]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        for c in candidates:
            if c in known and c != name:
                found.add(c)
                break
    return found


def layer(name: str) -> int:
    part = name.split(".")[1] if "." in name else "__init__"
    return next(i for i, members in enumerate(LAYERS) if part in members)


def graph() -> dict[str, set[str]]:
    return {name: imports(name, path) for name, path in modules().items()}


def test_every_module_has_a_layer():
    for name in modules():
        layer(name)


def test_no_import_runs_up_a_layer():
    upward = [f"{a} -> {b}" for a, targets in graph().items() for b in targets if layer(b) > layer(a)]
    assert upward == []


def test_no_import_circle():
    g = graph()
    # A package's __init__ that re-exports its own modules is not a circle with them.
    edges = {a: {b for b in bs if not (a.startswith(b + ".") and modules()[b].name == "__init__.py")} for a, bs in g.items()}
    state: dict[str, int] = {}
    circles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert circles == []


def test_modules_are_small_and_the_top_is_short():
    top = [p for p in PACKAGE.glob("*.py")]
    assert len(top) <= MAX_TOP_LEVEL_MODULES, sorted(p.name for p in top)
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_cluster_identity_hashes_every_module():
    """A worker whose code differs in any module of the tree (not only the top) is told apart."""
    from audiofeed.build.cluster import source_digest

    digest = source_digest()
    assert digest and all(p.is_file() for p in PACKAGE.rglob("*.py"))
    assert len([p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE]) > 20  # the subpackages are in it

"""The import graph of asl_gpt/, read with `ast` (function-local imports included): imports only go down the
layers, and the answer path (asl_gpt.rag) holds no circle.

Layers, lowest first: errors/config/words/resources < landmarks < recognition < rag < app < commands/cli. Training,
model and benchmarks may import runtime code; runtime code never imports them. Nothing outside commands (and the
CLI that dispatches to them) imports a command module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "asl_gpt"
LAYERS = {"errors": 0, "config": 0, "words": 0, "resources": 0, "landmarks": 1, "recognition": 2, "rag": 3, "app": 4,
          "commands": 5, "cli": 5, "__main__": 5, "__init__": 5}
OFFLINE = {"training", "model", "benchmarks"}  # may import runtime code; runtime code never imports them



def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The asl_gpt module an import names: the longest known prefix (`from asl_gpt.rag import index` names
    asl_gpt.rag.index; a name inside a module names the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> set[str]:
    """Every asl_gpt module `module` imports, anywhere in its body."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # `from pkg import sub` names pkg.sub; pkg itself only for a name that is no module of it (a package's
            # __init__ re-exporting its modules is no circle)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for n in names:
            target = _resolve(n) if n.startswith("asl_gpt") else None
            if target and target != module and target != "asl_gpt":
                found.add(target)
    return found


GRAPH = {m: imports(m) for m in MODULES}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def violations() -> set[tuple[str, str]]:
    bad = set()
    for m, targets in GRAPH.items():
        for t in targets:
            src, dst = _part(m), _part(t)
            if src == dst:
                continue
            if dst == "commands" and src not in ("commands", "cli", "__main__"):
                bad.add((m, t))
            elif dst in OFFLINE and src not in OFFLINE | {"commands", "cli", "__main__"}:
                bad.add((m, t))
            elif src not in OFFLINE and dst not in OFFLINE and LAYERS[dst] > LAYERS[src]:
                bad.add((m, t))
    return bad


def _cycles(nodes: set[str]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v] & nodes:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_function_local_imports():
    assert "asl_gpt.rag.llm" in GRAPH["asl_gpt.rag.generation"]  # imported inside Writer.stream


def test_no_import_circle_among_the_rag_modules():
    rag = {m for m in MODULES if m.startswith("asl_gpt.rag.")}
    assert _cycles(rag) == []


def test_rag_imports_only_go_down():
    assert {(a, b) for a, b in violations() if a.startswith("asl_gpt.rag")} == set()


def test_no_import_goes_up_a_layer():
    assert violations() == set()


def test_no_import_circle_anywhere():
    assert _cycles(set(MODULES)) == []


def test_no_function_is_over_80_lines():
    """A function a reader can hold at once (issue 26): split one that grows past this."""
    long = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80:
                long.append(f"{module}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert long == []

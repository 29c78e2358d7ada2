"""The package's layers: no import runs upward. Between hebbnet's top-level packages (data,
rules, layers, models, continual, config, …) the imports that run when a module loads form no
cycle — a cycle means some package imports one that depends on it. Imports under
``if TYPE_CHECKING:`` do not run and are left out."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hebbnet"


def top_level(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def runtime_imports(tree: ast.Module) -> list[str]:
    typing_only = {id(node) for guard in ast.walk(tree)
                   if isinstance(guard, ast.If) and "TYPE_CHECKING" in ast.unparse(guard.test)
                   for statement in guard.body for node in ast.walk(statement)}
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hebbnet."):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("hebbnet.")]
    return found


def package_imports() -> dict[tuple[str, str], set[str]]:
    """(importing package, imported package) → the modules that import so."""
    edges: dict[tuple[str, str], set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for imported in runtime_imports(ast.parse(path.read_text())):
            if top_level(imported) != top_level(module):
                edges.setdefault((top_level(module), top_level(imported)), set()).add(module)
    return edges


def test_no_import_runs_upward_between_the_packages():
    edges = package_imports()
    reach: dict[str, set[str]] = {}
    for source, target in edges:
        reach.setdefault(source, set()).add(target)
        reach.setdefault(target, set())
    for _ in reach:  # transitive closure
        for package in reach:
            reach[package] |= set().union(*(reach[t] for t in reach[package]))
    upward = {pair: modules for pair, modules in edges.items() if pair[0] in reach[pair[1]]}
    assert not upward, upward

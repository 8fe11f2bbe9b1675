"""The folder tree is the architecture: imports run one way, and no module is over the size limit."""

from __future__ import annotations

import ast
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 250
# Each package, and the packages it must never import (neither at the top nor inside a function).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "model": ("controller", "app", "config", "dev", "flask"),
    "controller": ("app", "config", "dev", "flask"),
    "app.services": ("app.http", "app.api", "app.site", "app.cli"),
    "app.http": ("app.api", "app.site", "app.cli"),
    "app.api": ("app.site", "app.cli"),
    "app.site": ("app.api", "app.cli"),
}
APPLICATION = ("app", "controller", "model", "dev")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Return every absolute module name `path` imports, function-level imports included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def application_modules() -> list[Path]:
    return [path for package in APPLICATION for path in sorted((ROOT / package).rglob("*.py"))]


class LayersTest(unittest.TestCase):
    def test_no_module_imports_a_layer_above_it(self) -> None:
        for path in application_modules():
            name = module_name(path)
            forbidden = next((banned for package, banned in FORBIDDEN.items() if within(name, package)), ())
            with self.subTest(module=name):
                upward = sorted(i for i in imported_modules(path) for banned in forbidden if within(i, banned))
                self.assertEqual(upward, [])

    def test_nothing_imports_from_the_factory_module(self) -> None:
        """`from app import create_app` is for entry points; inside the application it would point up."""
        for path in application_modules():
            name = module_name(path)
            if name == "app":
                continue
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "app" and node.level == 0:
                    with self.subTest(module=name):
                        names = {alias.name for alias in node.names}
                        modules = {
                            n for n in names if (ROOT / "app" / n).is_dir() or (ROOT / "app" / f"{n}.py").is_file()
                        }
                        self.assertEqual(names - modules, set())

    def test_no_module_is_over_the_size_limit(self) -> None:
        for path in [*application_modules(), ROOT / "config.py", ROOT / "manage.py"]:
            with self.subTest(module=str(path.relative_to(ROOT))):
                self.assertLessEqual(len(path.read_text().splitlines()), MAX_LINES)

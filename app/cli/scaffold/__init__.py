"""`flask scaffold NAME`: generate a new resource in every layer, following the posts example.

NAME is the plural, lower-case name of the collection and URL (`invoices`). The command writes a model,
a controller, a blueprint with CRUD and a paginated list, and tests for the api, controller and model
layers, then registers the model and the blueprint. It refuses a name that is not an identifier or that
is taken, and it never overwrites a file: it checks every target before it writes anything.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*[a-z0-9]")
MODELS_FILE = Path("model/mongodb/__init__.py")
RESOURCES_FILE = Path("app/api/__init__.py")
MODELS_MARKER = "    # flask scaffold adds new models above this line\n"
RESOURCES_MARKER = "    # flask scaffold adds new resources above this line\n"
# Template file -> where its output goes; {plural} and {singular} are filled in.
OUTPUTS = {
    "model.py.tmpl": "model/mongodb/{singular}.py",
    "controller.py.tmpl": "controller/{singular}.py",
    "api.py.tmpl": "app/api/{plural}.py",
    "test_model.py.tmpl": "tests/model/test_{singular}.py",
    "test_controller.py.tmpl": "tests/controller/test_{singular}.py",
    "test_api.py.tmpl": "tests/api/test_{plural}.py",
}


class ScaffoldError(Exception):
    """Raised when a resource cannot be generated; nothing has been written then."""


@dataclass(frozen=True)
class Names:
    """The spellings of a resource's name used across the generated code."""

    plural: str  # invoices: collection, URL, blueprint
    singular: str  # invoice: modules, functions
    class_name: str  # Invoice
    label: str  # invoice, as prose

    @classmethod
    def parse(cls, plural: str, singular: str | None = None) -> Names:
        """Check the name and derive the other spellings; raise ScaffoldError for an unusable name."""
        if not _IDENTIFIER.fullmatch(plural) or keyword.iskeyword(plural) or "__" in plural:
            raise ScaffoldError(f"{plural!r} is not a lower-case identifier such as invoices or line_items")
        if singular is None:
            if plural.endswith("ies"):
                singular = plural[:-3] + "y"
            elif plural.endswith("s") and not plural.endswith("ss"):
                singular = plural[:-1]
            else:
                raise ScaffoldError(f"cannot tell the singular of {plural!r}; pass --singular")
        if not _IDENTIFIER.fullmatch(singular) or keyword.iskeyword(singular) or singular == plural:
            raise ScaffoldError(f"{singular!r} is not a usable singular for {plural!r}")
        class_name = "".join(part.capitalize() for part in singular.split("_"))
        return cls(plural, singular, class_name, singular.replace("_", " "))


def render(template: str, names: Names) -> str:
    """Fill a template's placeholders: __PLURAL__, __SINGULAR__, __SINGULAR_UPPER__, __CLASS__, __LABEL__."""
    text = (TEMPLATES / template).read_text()
    for token, value in (
        ("__SINGULAR_UPPER__", names.singular.upper()),
        ("__PLURAL__", names.plural),
        ("__SINGULAR__", names.singular),
        ("__CLASS__", names.class_name),
        ("__LABEL__", names.label),
    ):
        text = text.replace(token, value)
    return text


def generate(root: Path, plural: str, singular: str | None = None) -> list[Path]:
    """Write the resource's files under the project `root` and register it; return the paths touched."""
    names = Names.parse(plural, singular)
    files = {
        root / target.format(plural=names.plural, singular=names.singular): render(template, names)
        for template, target in OUTPUTS.items()
    }
    taken = [str(path.relative_to(root)) for path in files if path.exists()]
    if taken:
        raise ScaffoldError(f"{', '.join(taken)} already exist(s); nothing was written")
    collection = f'collection_name = "{names.plural}"'
    if any(collection in path.read_text() for path in (root / "model/mongodb").glob("*.py")):
        raise ScaffoldError(f"a model already uses the collection {names.plural!r}; nothing was written")
    registrations = {
        root / MODELS_FILE: _register_model(root / MODELS_FILE, names),
        root / RESOURCES_FILE: _register_resource(root / RESOURCES_FILE, names),
    }
    for path, text in {**files, **registrations}.items():
        path.write_text(text)
    return [*files, *registrations]


def _register_model(path: Path, names: Names) -> str:
    """Return the models package with the new model imported (in sorted place) and added to MODELS."""
    text = path.read_text()
    if MODELS_MARKER not in text:
        raise ScaffoldError(f"{MODELS_FILE} has lost its scaffold marker line; add the model by hand")
    line = f"from model.mongodb.{names.singular} import {names.class_name}\n"
    text = _insert_sorted_import(text, line, "from model.mongodb.")
    return text.replace(MODELS_MARKER, f"    {names.class_name},\n{MODELS_MARKER}")


def _register_resource(path: Path, names: Names) -> str:
    """Return the API package with the new blueprint module imported and added to RESOURCES."""
    text = path.read_text()
    match = re.search(r"^from app\.api import (.+)$", text, re.MULTILINE)
    if RESOURCES_MARKER not in text or match is None:
        raise ScaffoldError(f"{RESOURCES_FILE} has lost its scaffold marker line; register the blueprint by hand")
    modules = sorted({*match.group(1).split(", "), names.plural})
    text = text.replace(match.group(0), f"from app.api import {', '.join(modules)}")
    return text.replace(RESOURCES_MARKER, f"    {names.plural},\n{RESOURCES_MARKER}")


def _insert_sorted_import(text: str, line: str, prefix: str) -> str:
    """Insert an import line among the consecutive lines starting with `prefix`, in sorted order."""
    lines = text.splitlines(keepends=True)
    block = [i for i, existing in enumerate(lines) if existing.startswith(prefix)]
    position = next((i for i in block if lines[i] > line), block[-1] + 1)
    lines.insert(position, line)
    return "".join(lines)

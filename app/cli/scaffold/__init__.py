"""`flask scaffold NAME`: generate a new resource in every layer, following the posts example.

NAME is the plural, lower-case name of the collection and URL (`invoices`). The command writes a model,
a controller, a blueprint with CRUD and a paginated list, and tests for the api, controller and model
layers, then registers the model and the blueprint. It refuses a name that is not an identifier or that
is taken, and it never overwrites a file: it checks every target before it writes anything.
"""

from __future__ import annotations

import keyword
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*[a-z0-9]")
MAX_NAME_LENGTH = 40  # generated lines then fit in 120 columns
# Words that start with a vowel letter but not a vowel sound ("a user"), and the reverse ("an hour").
_CONSONANT_SOUND = ("uni", "use", "usa", "usu", "uti", "ure", "uro", "eu", "one", "once")
_VOWEL_SOUND = ("hour", "honest", "honor", "honour", "heir")
_PLURAL_ENDINGS = (("ies", "y"), ("sses", "ss"), ("shes", "sh"), ("ches", "ch"), ("xes", "x"), ("zzes", "z"))
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
    plural_label: str  # invoices, as prose
    article: str  # "an", or "a"

    @classmethod
    def parse(cls, plural: str, singular: str | None = None) -> Names:
        """Check the name and derive the other spellings; raise ScaffoldError for an unusable name."""
        _check_identifier(plural, f"{plural!r} is not a lower-case identifier such as invoices or line_items")
        if singular is None:
            singular = singular_of(plural)
            if singular is None:
                raise ScaffoldError(f"cannot tell the singular of {plural!r}; pass --singular")
        _check_identifier(singular, f"{singular!r} is not a usable singular for {plural!r}")
        if singular == plural:
            raise ScaffoldError(f"{singular!r} is not a usable singular for {plural!r}")
        class_name = "".join(part.capitalize() for part in singular.split("_"))
        label = singular.replace("_", " ")
        return cls(plural, singular, class_name, label, plural.replace("_", " "), article_for(label))


def _check_identifier(name: str, message: str) -> None:
    """Refuse a name that is not a short lower-case identifier usable as a module, function and URL."""
    if not _IDENTIFIER.fullmatch(name) or keyword.iskeyword(name) or "__" in name:
        raise ScaffoldError(message)
    if len(name) > MAX_NAME_LENGTH:
        raise ScaffoldError(f"{name!r} is longer than {MAX_NAME_LENGTH} characters")


def singular_of(plural: str) -> str | None:
    """Return the regular singular of an English plural (categories, boxes, invoices), or None."""
    for ending, replacement in (
        ("ies", "y"),
        ("sses", "ss"),
        ("shes", "sh"),
        ("ches", "ch"),
        ("xes", "x"),
        ("zzes", "z"),
    ):
        if plural.endswith(ending) and len(plural) > len(ending):
            return plural[: -len(ending)] + replacement
    if plural.endswith("s") and not plural.endswith(("ss", "us", "is")):
        return plural[:-1]
    return None


def article_for(label: str) -> str:
    """Return "a" or "an" for `label`, by its first sound as far as spelling tells it."""
    word = label.lower()
    if word.startswith(_VOWEL_SOUND):
        return "an"
    if word.startswith(_CONSONANT_SOUND):
        return "a"
    return "an" if word[:1] in "aeiou" else "a"


def render(template: str, names: Names) -> str:
    """Fill a template's placeholders: __PLURAL__, __SINGULAR__, __CLASS__, __LABEL__ and their variants."""
    text = (TEMPLATES / template).read_text()
    for token, value in (
        ("__A_LABEL_CAP__", f"{names.article.capitalize()} {names.label}"),
        ("__A_LABEL__", f"{names.article} {names.label}"),
        ("__PLURAL_LABEL__", names.plural_label),
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
    written = [*files, *registrations]
    tidy(root, written)
    return written


def tidy(root: Path, paths: list[Path]) -> None:
    """Format the written files with the project's ruff settings, so that `make lint` passes for any name.

    Names of any length make lines that ruff would wrap or join differently; formatting after writing
    keeps the templates readable. Skipped (the code still works) when ruff is not installed.
    """
    beside = Path(sys.executable).with_name("ruff")
    ruff = str(beside) if beside.exists() else shutil.which("ruff")
    if ruff is None:
        return
    files = [str(path.relative_to(root)) for path in paths]
    for command in (["check", "--fix-only", "--quiet", *files], ["format", "--quiet", *files]):
        subprocess.run([ruff, *command], cwd=root, check=False, capture_output=True, timeout=120)


def _register_model(path: Path, names: Names) -> str:
    """Return the models package with the new model imported (in sorted place) and added to MODELS."""
    text = path.read_text()
    if MODELS_MARKER not in text:
        raise ScaffoldError(f"{MODELS_FILE} has lost its scaffold marker line; add the model by hand")
    line = f"from model.mongodb.{names.singular} import {names.class_name}\n"
    text = _insert_sorted_import(text, line, "from model.mongodb.")
    text = text.replace(MODELS_MARKER, f"    {names.class_name},\n{MODELS_MARKER}")
    # Exported where the other models are, so that `from model.mongodb import X` passes mypy --strict.
    exports = re.search(r"^__all__ = \[\n(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    if exports is None:
        raise ScaffoldError(f"{MODELS_FILE} has no __all__ list; add the model by hand")
    entries = sorted({*exports.group(1).splitlines(), f'    "{names.class_name}",'}, key=_export_order)
    return text.replace(exports.group(0), "__all__ = [\n" + "\n".join(entries) + "\n]")


def _export_order(entry: str) -> tuple[int, str]:
    """Sort __all__ as ruff does (RUF022): constants first, then classes, then functions, each alphabetically."""
    name = entry.strip().strip('",')
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return (kind, name)


def _register_resource(path: Path, names: Names) -> str:
    """Return the API package with the new blueprint module imported and added to RESOURCES."""
    text = path.read_text()
    match = re.search(r"^from app\.api import (\([^)]*\)|.+)$", text, re.MULTILINE)
    if RESOURCES_MARKER not in text or match is None:
        raise ScaffoldError(f"{RESOURCES_FILE} has lost its scaffold marker line; register the blueprint by hand")
    imported = re.findall(r"\w+", match.group(1))
    modules = sorted({*imported, names.plural})
    # One line; ruff format (tidy) wraps it in parentheses when it grows too long.
    text = text.replace(match.group(0), f"from app.api import {', '.join(modules)}")
    return text.replace(RESOURCES_MARKER, f"    {names.plural},\n{RESOURCES_MARKER}")


def _insert_sorted_import(text: str, line: str, prefix: str) -> str:
    """Insert an import line among the consecutive lines starting with `prefix`, in sorted order."""
    lines = text.splitlines(keepends=True)
    block = [i for i, existing in enumerate(lines) if existing.startswith(prefix)]
    position = next((i for i in block if lines[i] > line), block[-1] + 1)
    lines.insert(position, line)
    return "".join(lines)

"""A plain clone must test itself: no test reads above the checkout, and the reference data the
sandbox conformance tests need (tests/data/reference/) is all there.

The specs under tests/data/reference/specs/ are trimmed copies (tests/data/reference/trim.py):
an operation or schema a sandbox test validates against but the copy lacks must fail here, by
name, rather than somewhere deep in a validator, and a ``$ref`` the trimming missed must never
pass for "nothing to check".
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

import test_sandbox_bitbucket as bitbucket_tests
import test_sandbox_jira as jira_tests
from openapi_check import SpecValidator, load_spec

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
REFERENCE = TESTS / "data" / "reference"
SPECS = REFERENCE / "specs"
#: The one file under tests/ allowed to read above the checkout: the maintenance script that
#: regenerates the copies from the full collection (run by hand, never by the tests).
MAINTENANCE = REFERENCE / "trim.py"
#: Where the reference data lived before, above the checkout (spelt so as not to match itself).
OLD_HOME = ("/".join(("shared", "reference")), "/".join(("..", "shared")))
REGENERATE = "add it to KEEP in tests/data/reference/trim.py and run that script"


# == nothing reads above the checkout ===========================================================

_SAME = {"resolve", "absolute", "expanduser", "abspath", "realpath", "normpath"}
_JOINS = {"join", "joinpath", "Path", "PurePath"}  # the first argument, then segments below it
CWD = "<cwd>"  # the working directory: the checkout's root when the tests run

Heights = dict[str, tuple[int, int]]


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _down(height: tuple[int, int], parts: list[ast.expr]) -> tuple[int, int]:
    """Follow path segments given as string constants (or os.pardir): ``..`` climbs, a name
    descends."""
    now, peak = height
    for part in parts:
        if isinstance(part, ast.Attribute) and part.attr == "pardir":
            now += 1
            peak = max(peak, now)
            continue
        if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
            return now, peak
        for segment in part.value.split("/"):
            now += 1 if segment == ".." else 0 if segment in ("", ".") else -1
            peak = max(peak, now)
    return now, peak


def _height(node: ast.expr, names: Heights) -> tuple[int, int] | None:
    """(levels above the file, highest level reached) of a path built from ``__file__``, the
    working directory, or a name assigned one of those (``names``); the file is level 0, its
    directory 1. None when the expression starts at none of them."""
    if isinstance(node, ast.Name):
        return (0, 0) if node.id == "__file__" else names.get(node.id)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _height(node.value, names)
        return None if inner is None else (inner[0] + 1, max(inner[1], inner[0] + 1))
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
        inner = _height(node.value.value, names) if node.value.attr == "parents" else None
        index = node.slice.value if isinstance(node.slice, ast.Constant) else None
        if inner is None or not isinstance(index, int):
            return inner
        up = inner[0] + index + 1
        return up, max(inner[1], up)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        inner = _height(node.left, names)
        return None if inner is None else _down(inner, [node.right])
    if isinstance(node, ast.Call):
        name = _name(node.func)
        if name in ("cwd", "getcwd"):
            return names.get(CWD)
        if name not in (*_SAME, *_JOINS, "dirname"):
            return None
        own = _height(node.func.value, names) if isinstance(node.func, ast.Attribute) else None
        if own is not None:  # a method of a path: path.resolve(), path.joinpath("..")
            inner, parts = own, node.args
        elif node.args:  # a function of one: os.path.join(p, ".."), Path(p, ".."), dirname(p)
            inner, parts = _height(node.args[0], names), node.args[1:]
        else:
            return None
        if inner is None:
            return None
        if name == "dirname":
            return inner[0] + 1, max(inner[1], inner[0] + 1)
        return _down(inner, parts) if name in _JOINS else inner
    return None


def climbs_above(source: str, depth: int) -> list[int]:
    """Lines of ``source`` (a file ``depth`` directories below the root) whose paths reach above
    the root: climbs from ``__file__`` or the working directory, directly or through names
    assigned such a path (in any scope, in the order of the lines), or the old location of the
    reference data by name."""
    tree = ast.parse(source)
    names: Heights = {CWD: (depth, depth)}
    assigns = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign))]
    for assign in sorted(assigns, key=lambda n: (n.lineno, n.col_offset)):
        targets = assign.targets if isinstance(assign, ast.Assign) else [assign.target]
        height = None if assign.value is None else _height(assign.value, names)
        for target in targets:
            if isinstance(target, ast.Name) and height is not None:
                names[target.id] = height
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(name in node.value for name in OLD_HOME):
                lines.add(node.lineno)
        elif isinstance(node, ast.expr) and not isinstance(node, ast.Name):
            height = _height(node, names)
            if height is not None and height[1] > depth:
                lines.add(node.lineno)
    return sorted(lines)


def test_no_test_reads_above_the_checkout() -> None:
    assert MAINTENANCE.is_file()  # the one exception exists, so it cannot widen silently
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != MAINTENANCE
        for line in climbs_above(
            path.read_text(encoding="utf-8"), len(path.relative_to(ROOT).parts)
        )
    ]
    assert offenders == [], "tests must read only inside the checkout (tests/data/ for data)"


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ('REF = Path(__file__).parents[2] / "shared" / "reference"', [1]),
        ("up = Path(__file__).resolve().parent.parent.parent", [1]),
        ('up = os.path.join(os.path.dirname(__file__), "..", "..")', [1]),
        ('up = Path(__file__).parent / ".." / ".." / "x"', [1]),
        ('x = 1\nup = Path(__file__).parents[3] / "main" / "docs"', [2]),
        (f'text = open("{OLD_HOME[1]}/reference/INDEX.md").read()', [1]),
        ('DOCS = Path(__file__).resolve().parent.parent / "docs"', []),
        ('ROOT = Path(__file__).parent.parent\nSHARED = ROOT.parent / "shared"', [2]),
        ("up = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir)", [1]),
        ('up = Path(__file__).parent / os.pardir / os.pardir / "x"', [1]),
        ('up = Path(__file__).joinpath("..", "..", "..")', [1]),
        ('up = Path(os.path.dirname(__file__), "..", "..")', [1]),
        ('up = os.path.realpath(os.path.join(os.path.dirname(__file__), "../.."))', [1]),
        ('up = Path.cwd().parent / "shared"', [1]),
        ('up = os.path.join(os.getcwd(), "..")', [1]),
        ('def f():\n    here = Path(__file__).parents[1]\n    return here / ".."', [3]),
        ('REF = Path(__file__).parent / "data" / "reference"', []),
        ('ROOT = Path(__file__).parent.parent\nDOCS = ROOT / "docs"', []),
        ('DOCS = Path.cwd() / "docs"', []),
        ('up = Path(__file__).parent / "data" / ".." / ".."', []),
        ("found = tmp_path.parents[5]", []),
        ('bad = "../VERSION"', []),
    ],
)
def test_the_climb_check_catches_each_way_up(source: str, lines: list[int]) -> None:
    assert climbs_above(source, depth=2) == lines


def test_the_sandbox_tests_read_the_copy_in_the_checkout() -> None:
    """Read, not skipped: the old skip-when-missing logic must not come back."""
    for module in (jira_tests, bitbucket_tests):
        assert module.REFERENCE.resolve() == REFERENCE, module.__name__
        try:
            found = module.reference_dir()
        except pytest.skip.Exception:
            pytest.fail(f"{module.__name__}.reference_dir() skips")
        assert found.resolve() == REFERENCE


# == the copy is complete =======================================================================


def dangling_refs(spec: dict[str, Any]) -> list[str]:
    """Every ``$ref`` in ``spec`` that points at nothing in it."""
    missing: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    target: Any = spec
                    for token in value.removeprefix("#/").split("/"):
                        token = token.replace("~1", "/").replace("~0", "~")
                        target = target.get(token) if isinstance(target, dict) else None
                    if not value.startswith("#/") or target is None:
                        missing.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)
    return missing


def test_dangling_refs_are_found() -> None:
    spec: dict[str, Any] = {"paths": {"/x": {"get": {"$ref": "#/definitions/A"}}}}
    spec["definitions"] = {}
    spec["definitions"]["A"] = {"properties": {"b": {"items": {"$ref": "#/definitions/B"}}}}
    assert dangling_refs(spec) == ["#/definitions/B"]
    spec["definitions"]["B"] = {"allOf": [{"$ref": "#/definitions/A"}]}
    assert dangling_refs(spec) == []


SPEC_FILES = sorted(p.name for p in SPECS.glob("*.json"))
USED_SPECS = sorted(
    {spec for _flavour, _prefix, spec in jira_tests.VARIANTS.values()}
    | {bitbucket_tests.CLOUD_SPEC, bitbucket_tests.DC_SPEC}
)


def test_every_spec_the_tests_use_is_here() -> None:
    assert SPEC_FILES == USED_SPECS


@pytest.mark.parametrize("name", SPEC_FILES)
def test_every_ref_in_a_trimmed_spec_resolves(name: str) -> None:
    """One schema the trimming missed would fail the validator only where a sample reaches it."""
    spec = load_spec(SPECS / name)
    assert spec["paths"] and spec.get("openapi", spec.get("swagger")) and spec["info"]["title"]
    assert dangling_refs(spec) == [], f"{name}: re-run tests/data/reference/trim.py"


def _operation_missing(validator: SpecValidator, method: str, path: str, status: int) -> str:
    try:
        validator.response_schema(method, path, status)
    except (KeyError, StopIteration):
        return f"{method.upper()} {path} {status}"
    return ""


def _schemas_missing(validator: SpecValidator, names: set[str]) -> list[str]:
    return sorted(f"schema {name}" for name in names if name not in validator.definitions)


def test_the_jira_specs_hold_every_operation_and_schema_the_tests_check() -> None:
    named = {"ErrorCollection", *jira_tests.FIELD_SCHEMAS.values()}
    named |= {name.split(".")[0] for name in jira_tests.SPEC_OMISSIONS}
    named |= {name.split(".")[0] for name in jira_tests.DATACENTER_EXTRA}
    missing: list[str] = []
    for variant, (_flavour, prefix, spec_file) in jira_tests.VARIANTS.items():
        validator = SpecValidator(load_spec(SPECS / spec_file))
        missing += [
            f"{spec_file}: {gap}"
            for op in jira_tests.OPERATIONS
            if variant in op.variants
            if (gap := _operation_missing(validator, op.method, prefix + op.spec_path, op.status))
        ]
        missing += [f"{spec_file}: {gap}" for gap in _schemas_missing(validator, named)]
    v3 = "jira-cloud-platform-rest-v3.openapi.json"
    spec = load_spec(SPECS / v3)
    for (method, path, status), _kind in jira_tests.SPEC_EXAMPLES.items():
        try:
            example = spec["paths"][path][method]["responses"][status]["content"]
            json.loads(example["application/json"]["example"])
        except KeyError:
            missing.append(f"{v3}: the example of {method.upper()} {path} {status}")
    validator = SpecValidator(spec)
    missing += [
        f"{v3}: {gap}" for gap in _schemas_missing(validator, {"StatusCategory", "FieldMetadata"})
    ]
    assert missing == [], REGENERATE


def test_the_bitbucket_specs_hold_every_operation_and_schema_the_tests_check() -> None:
    named = {"cloud": {"error", "pullrequest", "participant"}, "datacenter": {"RestErrors"}}
    missing: list[str] = []
    for flavour, operations in bitbucket_tests.OPERATIONS.items():
        spec_file = bitbucket_tests.CLOUD_SPEC if flavour == "cloud" else bitbucket_tests.DC_SPEC
        validator = SpecValidator(load_spec(SPECS / spec_file))
        names = set(named[flavour])
        names |= {n.split(".")[0] for n in bitbucket_tests.SPEC_OMISSIONS[flavour]}
        names |= {n.split(".")[0] for n in bitbucket_tests.SPEC_NULLS[flavour]}
        for op in operations:
            if op.item_schema is not None:
                names.add(op.item_schema)
            elif gap := _operation_missing(validator, op.method, op.spec_path, op.status):
                missing.append(f"{spec_file}: {gap}")
        missing += [f"{spec_file}: {gap}" for gap in _schemas_missing(validator, names)]
    assert missing == [], REGENERATE


def test_a_missing_operation_or_schema_is_reported() -> None:
    """The two checks above can fail: a spec without an operation or a schema names it."""
    validator = SpecValidator({"swagger": "2.0", "paths": {"/a": {"get": {}}}, "definitions": {}})
    assert _operation_missing(validator, "GET", "/a", 200) == "GET /a 200"
    assert _operation_missing(validator, "POST", "/b", 201) == "POST /b 201"
    assert _schemas_missing(validator, {"error"}) == ["schema error"]


# == every file is accounted for ================================================================


def _sha16(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


_ROW = re.compile(r"^\| `([^`]+)` \| (\d+) \| `([0-9a-f]{16})` \|", re.M)


def test_every_file_is_listed_in_the_readme_as_it_is() -> None:
    """README.md's table (written by trim.py) gives each file's provenance; a file changed by
    hand or added without it fails here."""
    listed = {
        name: (int(size), sha)
        for name, size, sha in _ROW.findall((REFERENCE / "README.md").read_text(encoding="utf-8"))
    }
    present = {}
    for path in sorted(REFERENCE.rglob("*.json")):
        data = path.read_bytes()
        json.loads(data)
        present[path.relative_to(REFERENCE).as_posix()] = (len(data), _sha16(data))
    assert present == listed

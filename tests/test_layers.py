"""Imports run one way: every module of `zongzhi/` imports only from its own layer or the layers below.

Bottom to top (LAYERS): helpers with no business code; the schema (every app's models and the modules
in MODEL_MODULES: they import only the schema, and every layer above may read it); `access`; then the
apps, each of which imports only the apps below it; the platform figures, the demo, the pages above
the apps (`home`: each persona's home, the region browser, open days) and the project's wiring (API,
URLs). Inside an app, selectors come before services, and only pages (views, urls, api, forms,
commands, template tags) import pages.

Every import counts, also one inside a function: that is where backward arrows hide. So each
function-level import of a `zongzhi` module is listed in EXCEPTIONS with the reason it cannot be at
the top, and the line (or one of the three above it) says why in a comment.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "zongzhi"

# Bottom to top. A module belongs to the layer of the longest prefix it starts with; every models module
# (and each of MODEL_MODULES) belongs to "models" whatever its app.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "helpers",
        (
            "zongzhi.clock",  # the services' time source (timezone.now, or the moment a backfill sets)
            "zongzhi.counting",  # several counts read in one statement (their querysets as subqueries)
            "zongzhi.crypto",
            "zongzhi.identity",
            "zongzhi.bulk",
            "zongzhi.documents",
            "zongzhi.forms",
            "zongzhi.inputs",
            "zongzhi.api_schemas",
            "zongzhi.api_access",
            "zongzhi.portal.sms",  # the SMS gateway: settings and HTTP, no business code
            "zongzhi.requestlog",
            "zongzhi.health",
            "zongzhi.sheets",
            "zongzhi.xlsx",  # the streamed XLSX writer of the exports: files, no business code
            "zongzhi.uploads",
            "zongzhi.hardening",
            "zongzhi.sqlrecord",  # records SQL templates when the tests ask (docs/national.md)
        ),
    ),
    ("models", ()),
    ("access", ("zongzhi.access", "zongzhi.api_access")),
    ("audit", ("zongzhi.audit",)),
    ("accounts", ("zongzhi.accounts",)),
    ("regions", ("zongzhi.regions",)),
    ("centers", ("zongzhi.centers",)),
    # Below every app that writes: each records what it changed in the outbox, in its own transaction.
    ("outbox", ("zongzhi.outbox",)),
    ("grid", ("zongzhi.grid",)),
    ("cases", ("zongzhi.cases",)),
    ("field", ("zongzhi.field",)),
    ("meetings", ("zongzhi.meetings",)),
    ("portal", ("zongzhi.portal",)),
    ("dashboards", ("zongzhi.dashboards",)),
    ("transfer", ("zongzhi.transfer",)),
    ("integration", ("zongzhi.integration",)),
    ("stats", ("zongzhi.stats",)),
    ("demo", ("zongzhi.demo",)),
    ("home", ("zongzhi.home",)),
    ("ops", ("zongzhi.ops",)),
    ("project", ("zongzhi.api", "zongzhi.urls", "zongzhi.settings", "zongzhi.wsgi", "zongzhi")),
]
# Part of the schema too: the region-code rules the models are built on, and the case core that `access`
# decides on (the transition table and its one writer, the catalogue of actions, the event kinds), all of
# which import only models.
MODEL_MODULES = {"zongzhi.regions.codes", "zongzhi.cases.workflow", "zongzhi.cases.catalogue", "zongzhi.cases.events"}

# Inside an app: selectors (reads) < everything else (services, workflow, events …) < pages.
PAGE_PARTS = {"views", "urls", "api", "forms", "decorators", "middleware", "context_processors"}
PAGE_PACKAGES = {"management", "templatetags"}

# Function-level imports that stay, keyed by (file, imported module), each with its reason.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("zongzhi/dashboards/apps.py", "zongzhi.cases.events"): "AppConfig.ready: apps.py loads before the models",
    ("zongzhi/dashboards/apps.py", "zongzhi.dashboards.rollups"): "AppConfig.ready: apps.py loads before the models",
    ("zongzhi/outbox/apps.py", "zongzhi.cases.events"): "AppConfig.ready: apps.py loads before the models",
    ("zongzhi/outbox/apps.py", "zongzhi.outbox.services"): "AppConfig.ready: apps.py loads before the models",
    ("zongzhi/outbox/apps.py", "zongzhi.outbox.health"): "AppConfig.ready: registers the readiness check",
    ("zongzhi/transfer/jobs.py", "zongzhi.transfer.tasks"): "the task wraps job_run: a top-level import is circular",
    ("zongzhi/audit/apps.py", "zongzhi.cases.events"): "AppConfig.ready: apps.py loads before the models",
    ("zongzhi/audit/apps.py", "zongzhi.audit.services"): "AppConfig.ready: apps.py loads before the models",
    ("zongzhi/transfer/export_jobs.py", "zongzhi.transfer.tasks"): "the task wraps export_job_run: circular too",
}


@dataclass(frozen=True)
class Import:
    file: str
    line: int
    source: str
    target: str
    in_function: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _targets(node: ast.Import | ast.ImportFrom, source: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = source.split(".") if is_package else source.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
    # `from zongzhi.cases import hooks` imports the module zongzhi.cases.hooks, not the package.
    return list(dict.fromkeys(f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base for a in node.names))


def imports_of(path: Path) -> list[Import]:
    source = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                for target in _targets(child, source, path.name == "__init__.py"):
                    if target == "zongzhi" or target.startswith("zongzhi."):
                        rel = str(path.relative_to(ROOT))
                        found.append(Import(rel, child.lineno, source, target, in_function))
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(tree, False)
    return found


def all_imports() -> list[Import]:
    return [i for path in sorted(PACKAGE.rglob("*.py")) if "migrations" not in path.parts for i in imports_of(path)]


def layer_of(module: str) -> int:
    if module.rsplit(".", 1)[-1] == "models" or module in MODEL_MODULES:
        return 1
    best, index = "", None
    for i, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) >= len(best):
                best, index = prefix, i
    assert index is not None, f"{module} is in no layer: add it to LAYERS in tests/test_layers.py"
    return index


def rank_in_app(module: str) -> int:
    parts = module.split(".")
    if parts[-1] == "models" or module in MODEL_MODULES:
        return 0
    if parts[-1] == "selectors":
        return 1
    if parts[-1] in PAGE_PARTS or parts[-1].endswith("_views") or PAGE_PACKAGES & set(parts):
        return 3
    return 2


RANK_NAMES = {0: "models", 1: "selectors", 2: "services and the like", 3: "pages"}


def problem(imp: Import) -> str | None:
    """Why this import runs the wrong way, or None."""
    here, there = layer_of(imp.source), layer_of(imp.target)
    if there > here:
        return f"{LAYERS[here][0]} may not import {LAYERS[there][0]}, which is above it"
    if there == here and here != 1:
        mine, theirs = rank_in_app(imp.source), rank_in_app(imp.target)
        if theirs > mine:
            return f"inside {LAYERS[here][0]}, {RANK_NAMES[mine]} may not import {RANK_NAMES[theirs]}"
    return None


def test_every_module_is_placed_in_a_layer() -> None:
    for imp in all_imports():
        layer_of(imp.source)
        layer_of(imp.target)


def test_imports_run_one_way() -> None:
    wrong = []
    for imp in all_imports():
        why = problem(imp)
        if why:
            wrong.append(f"{imp.file}:{imp.line} imports {imp.target}: {why}")
    assert not wrong, "backward imports:\n" + "\n".join(wrong)


def test_function_level_imports_are_the_listed_exceptions_each_with_a_comment() -> None:
    hidden, seen = [], set()
    for imp in all_imports():
        if not imp.in_function:
            continue
        key = (imp.file, imp.target)
        seen.add(key)
        if key not in EXCEPTIONS:
            hidden.append(f"{imp.file}:{imp.line} imports {imp.target} inside a function: move it to the top")
            continue
        lines = (ROOT / imp.file).read_text(encoding="utf-8").splitlines()
        if not any("#" in line for line in lines[max(0, imp.line - 4) : imp.line]):
            hidden.append(f"{imp.file}:{imp.line}: say in a comment why {imp.target} is imported here")
    stale = sorted(set(EXCEPTIONS) - seen)
    assert not hidden, "function-level imports:\n" + "\n".join(hidden)
    assert not stale, f"exceptions no longer needed, remove them from EXCEPTIONS: {stale}"


def test_the_rule_refuses_what_issue_11_found() -> None:
    """The rule itself: cases reaching up into the dashboards is refused; the dashboards reading cases is not."""
    up = Import("zongzhi/cases/x.py", 7, "zongzhi.cases.x", "zongzhi.dashboards.rollups", False)
    down = Import("zongzhi/dashboards/x.py", 3, "zongzhi.dashboards.x", "zongzhi.cases.selectors", False)
    home = Import("zongzhi/accounts/views.py", 25, "zongzhi.accounts.views", "zongzhi.cases.selectors", False)
    page = Import("zongzhi/portal/openday.py", 90, "zongzhi.portal.openday", "zongzhi.portal.views", True)
    schema = Import("zongzhi/regions/selectors.py", 9, "zongzhi.regions.selectors", "zongzhi.grid.models", False)
    assert problem(up) == "cases may not import dashboards, which is above it"
    assert problem(down) is None
    assert problem(home) == "accounts may not import cases, which is above it"
    assert problem(page) == "inside portal, services and the like may not import pages"
    assert problem(schema) is None
    assert problem(Import("zongzhi/cases/models.py", 1, "zongzhi.cases.models", "zongzhi.access", False))

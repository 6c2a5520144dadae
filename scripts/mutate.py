"""Mutation testing of the request path's modules (``make mutate``).

Each mutant changes one expression or statement of one module; the tests
that guard that module then run against a copy of the package holding the
mutant. A mutant that leaves those tests green is a *survivor*: either a
test is missing, or the change cannot be seen from outside (a pure speed
path, a bound that only limits memory). The second kind is listed in
``docs/mutation.md`` with the reason; this script fails when any survivor
is not listed there.

Mutations (chosen after one-line mutations of these kinds were found unguarded):

- ``cmp``: a comparison operator swapped (``<`` and ``<=``, ``is`` and
  ``is not``, ``in`` and ``not in``, ...);
- ``drop``: one operand removed from an ``and``/``or``;
- ``off``: an ``if`` condition replaced by ``False`` (a shortcut switched
  off, a guard skipped);
- ``not``: a ``not`` removed;
- ``int``: an integer compared with increased by one (thresholds, bounds);
- ``del``: a call statement, a store into an attribute or item, or a
  ``raise`` replaced by ``pass`` (a cache never filled, a step skipped);
- ``slice``: a slice removed (``x[:n]`` becomes ``x``).

Not mutated: docstrings, annotations, ``if t.TYPE_CHECKING:`` blocks and
lines marked ``# pragma: no cover``.

Usage: ``python scripts/mutate.py [--list] [-j N] [--only TEXT] [MODULE ...]``
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "flask"
DOC = ROOT / "docs" / "mutation.md"

# The tests that guard each module, fastest-failing first (pytest -x
# stops at the first failure, so a killed mutant costs little).
_TEMPLATE_TESTS = [
    "tests/accel/test_jinja.py",
    "tests/test_templating.py",
    "tests/accel/test_plain.py",
    "tests/test_matching.py",
    "tests/accel/test_signing.py",
    "tests/test_pipeline.py",
]

TESTS: dict[str, list[str]] = {
    "_accel/body": [
        "tests/accel/test_body.py",
        "tests/accel/test_plain.py",
        "tests/test_matching.py",
        "tests/accel/test_signing.py",
        "tests/accel/test_jinja.py",
        "tests/test_pipeline.py",
        "tests/accel/test_gate.py",
    ],
    "_accel/matcher": [
        "tests/accel/test_matcher.py",
        "tests/test_matching.py",
        "tests/test_routing.py",
        "tests/accel/test_plain.py",
        "tests/accel/test_signing.py",
        "tests/accel/test_jinja.py",
        "tests/test_pipeline.py",
        "tests/accel/test_gate.py",
    ],
    "_accel/routing": [
        "tests/accel/test_matcher.py",
        "tests/test_matching.py",
        "tests/test_routing.py",
        "tests/accel/test_gate.py",
        "tests/accel/test_plain.py",
        "tests/accel/test_signing.py",
        "tests/accel/test_jinja.py",
        "tests/test_pipeline.py",
    ],
    "matching": [
        "tests/test_hosts.py",
        "tests/test_matching.py",
        "tests/accel/test_plain.py",
        "tests/test_routing.py",
        "tests/test_blueprints.py",
        "tests/accel/test_signing.py",
        "tests/accel/test_jinja.py",
        "tests/test_pipeline.py",
    ],
    "_accel/signing": [
        "tests/accel/test_signing.py",
        "tests/accel/test_plain.py",
        "tests/test_matching.py",
        "tests/accel/test_jinja.py",
        "tests/test_pipeline.py",
        "tests/accel/test_gate.py",
    ],
    "_plain": [
        "tests/accel/test_plain.py",
        "tests/test_errors.py",
        "tests/test_matching.py",
        "tests/accel/test_signing.py",
        "tests/accel/test_jinja.py",
        "tests/test_pipeline.py",
    ],
    "pipeline": [
        "tests/test_sessions.py",
        "tests/accel/test_plain.py",
        "tests/test_pipeline.py",
        "tests/accel/test_signing.py",
        "tests/test_app.py",
        "tests/test_signals.py",
        "tests/test_errors.py",
        "tests/test_ctx.py",
        "tests/test_testing.py",
        "tests/test_blueprints.py",
        "tests/test_matching.py",
        "tests/accel/test_jinja.py",
        # The async driver runs the same steps (teardown, respond, the
        # quiet-teardown check) over ASGI and WebSockets.
        "tests/asgi/test_one_path.py",
        "tests/asgi/test_asgi.py",
        "tests/asgi/test_websocket.py",
        "tests/test_background.py",
        "tests/test_streaming.py",
    ],
    "session_state": [
        "tests/test_sessions.py",
        "tests/test_pipeline.py",
        "tests/accel/test_plain.py",
        "tests/accel/test_signing.py",
        "tests/asgi/test_one_path.py",
        "tests/asgi/test_asgi.py",
    ],
    "sessions": [
        "tests/test_sessions.py",
        "tests/accel/test_signing.py",
        "tests/test_pipeline.py",
        "tests/accel/test_plain.py",
        "tests/test_matching.py",
        "tests/accel/test_jinja.py",
    ],
    # The thread pool: its own tests, then the hops and background threads
    # that use it.
    "threads": [
        "tests/test_threads.py",
        "tests/test_concurrency.py",
        "tests/test_background.py",
    ],
    # The template shortcuts and the module that uses them: the same tests,
    # and the gate's for the shortcuts' self-checks.
    "_accel/jinja": [*_TEMPLATE_TESTS, "tests/accel/test_gate.py"],
    "templating": _TEMPLATE_TESTS,
}

_CMP_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


@dataclass
class Mutant:
    module: str
    ident: str  # stable across line moves: module.qualname: description
    line: int
    start: tuple[int, int]  # (line, col) of the replaced source range
    end: tuple[int, int]
    replacement: str


def _short(node: ast.AST, limit: int = 70) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Collector(ast.NodeVisitor):
    """Walks a module and records every mutation site."""

    def __init__(self, module: str, source: str) -> None:
        self.module = module
        self.lines = source.splitlines()
        self.scope: list[str] = []
        self.found: list[tuple[str, ast.AST, str]] = []  # (description, node, replacement)

    # -- what is never mutated ------------------------------------------
    def _skipped(self, node: ast.AST) -> bool:
        line = self.lines[node.lineno - 1]  # type: ignore[attr-defined]
        return "pragma: no cover" in line

    def visit_arg(self, node: ast.arg) -> None:  # annotations
        return

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:  # f-strings
        return

    def _visit_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        for decorator in node.decorator_list:
            self.visit(decorator)
        if not isinstance(node, ast.ClassDef):
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                if default is not None:
                    self.visit(default)
        self._visit_body(node.body)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit_def

    def visit_Module(self, node: ast.Module) -> None:
        self._visit_body(node.body)

    def _visit_body(self, body: list[ast.stmt]) -> None:
        for i, stmt in enumerate(body):
            if (
                i == 0
                and isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)
            ):
                continue  # docstring
            if self._skipped(stmt):
                continue
            if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
                continue
            self._statement(stmt)
            self.visit(stmt)

    # -- statements --------------------------------------------------------
    def _statement(self, stmt: ast.stmt) -> None:
        deletable = (
            (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call))
            or isinstance(stmt, ast.Raise)
            or (
                isinstance(stmt, (ast.Assign, ast.AugAssign))
                and all(
                    isinstance(target, (ast.Subscript, ast.Attribute))
                    for target in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                )
            )
        )
        if deletable:
            self.found.append((f"del {_short(stmt)}", stmt, "pass"))

    def generic_visit(self, node: ast.AST) -> None:
        for field, value in ast.iter_fields(node):
            if field in ("body", "orelse", "finalbody") and isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self._visit_body(value)
            elif field == "handlers":
                for handler in value:
                    self.visit(handler)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._visit_body(node.body)

    def visit_If(self, node: ast.If) -> None:
        self.found.append((f"off if {_short(node.test)}", node.test, "False"))
        self.generic_visit(node)

    # -- expressions -------------------------------------------------------
    def _compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            swap = _CMP_SWAP.get(type(op))
            if swap is None:
                continue
            mutated = ast.Compare(
                left=node.left,
                ops=[swap() if j == i else o for j, o in enumerate(node.ops)],
                comparators=node.comparators,
            )
            self.found.append(
                (f"cmp {_short(node)} => {_short(mutated)}", node, ast.unparse(mutated))
            )

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        word = "and" if isinstance(node.op, ast.And) else "or"
        for i, value in enumerate(node.values):
            rest = node.values[:i] + node.values[i + 1 :]
            mutated = rest[0] if len(rest) == 1 else ast.BoolOp(op=node.op, values=rest)
            self.found.append(
                (f"drop {_short(value)} from {word}", node, ast.unparse(mutated))
            )
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self.found.append(
                (f"not {_short(node.operand)} => without not", node, ast.unparse(node.operand))
            )
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        self._compare(node)
        # Integer constants only as thresholds: the operands of comparisons.
        for operand in (node.left, *node.comparators):
            if isinstance(operand, ast.Constant) and type(operand.value) is int:
                self.found.append(
                    (f"int {operand.value} => {operand.value + 1}", operand, str(operand.value + 1))
                )
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        return

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.slice, ast.Slice) and isinstance(node.ctx, ast.Load):
            self.found.append(
                (f"slice {_short(node)} => {_short(node.value)}", node, ast.unparse(node.value))
            )
        self.generic_visit(node)


def collect(module: str) -> tuple[str, list[Mutant]]:
    path = PACKAGE / f"{module}.py"
    source = path.read_text()
    collector = _Collector(module, source)
    collector.visit(ast.parse(source))
    seen: dict[str, int] = {}
    mutants = []
    for description, node, replacement in collector.found:
        # The scope is found again from the node's position.
        qual = _qualname(ast.parse(source), node.lineno)  # type: ignore[attr-defined]
        ident = f"{module}.{qual}: {description}" if qual else f"{module}: {description}"
        seen[ident] = seen.get(ident, 0) + 1
        if seen[ident] > 1:
            ident += f" #{seen[ident]}"
        mutants.append(
            Mutant(
                module,
                ident,
                node.lineno,  # type: ignore[attr-defined]
                (node.lineno, node.col_offset),  # type: ignore[attr-defined]
                (node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
                replacement,
            )
        )
    return source, mutants


def _qualname(tree: ast.AST, line: int) -> str:
    names: list[str] = []
    node = tree
    while True:
        for child in ast.iter_child_nodes(node):
            if (
                isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and child.lineno <= line <= (child.end_lineno or child.lineno)
            ):
                names.append(child.name)
                node = child
                break
        else:
            return ".".join(names)


def apply(source: str, mutant: Mutant) -> str:
    lines = source.splitlines(keepends=True)
    (l1, c1), (l2, c2) = mutant.start, mutant.end
    # Offsets are in UTF-8 bytes.
    head = "".join(lines[: l1 - 1]) + lines[l1 - 1].encode()[:c1].decode()
    tail = lines[l2 - 1].encode()[c2:].decode() + "".join(lines[l2:])
    replacement = mutant.replacement
    if replacement != "pass":
        replacement = f"({replacement})"
    mutated = head + replacement + tail
    ast.parse(mutated)  # a mutant must still compile
    return mutated


def _listed(section: str) -> dict[str, str]:
    """Mutant ids listed in one section of docs/mutation.md
    (``| `id` | reason |`` rows under the heading ``## <section>``)."""
    if not DOC.exists():
        return {}
    found = {}
    inside = False
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            inside = line[3:].strip() == section
            continue
        m = re.match(r"\|\s*`(.+?)`\s*\|\s*(.*?)\s*\|\s*$", line) if inside else None
        if m:
            found[m.group(1)] = m.group(2)
    return found


def documented_equivalents() -> dict[str, str]:
    """The mutants no test can tell apart (docs/mutation.md)."""
    return _listed("Equivalent mutants")


def known_survivors() -> dict[str, str]:
    """Survivors that a test could kill but none does yet, each with what
    it would take (docs/mutation.md): reported, not failing the run."""
    return _listed("Survivors without a test")


class Workspace:
    """A private copy of the package; one mutant at a time is written into it.

    Each run is a forked child of this process, which has already imported
    pytest and the libraries (never flask): that halves the cost of a
    mutant against a fresh interpreter per run.
    """

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="flask-mutate-"))
        shutil.copytree(PACKAGE, self.dir / "flask", ignore=shutil.ignore_patterns("__pycache__"))
        self.pid = 0
        self.deadline = 0.0
        self.mutant: Mutant | None = None

    def start(self, module: str, text: str, tests: list[str], timeout: float) -> None:
        (self.dir / "flask" / f"{module}.py").write_text(text)
        self.deadline = time.monotonic() + timeout
        pid = os.fork()
        if pid:
            self.pid = pid
            return
        code = 3
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            sys.path.insert(0, str(self.dir))
            sys.dont_write_bytecode = True  # a stale .pyc would hide the mutant
            os.environ["PYTHONPATH"] = str(self.dir)  # for subprocesses of tests
            os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
            os.environ.pop("CI", None)
            import pytest

            code = int(pytest.main([
                "-x", "-q", "-p", "no:cacheprovider", "--no-header",
                "-W", "ignore::DeprecationWarning", *tests,
            ]))
        finally:
            os._exit(code)

    def poll(self) -> str | None:
        """The outcome once the run has ended, else None."""
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            if time.monotonic() < self.deadline:
                return None
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
            outcome = "timeout"
        else:
            outcome = "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
        self.pid = 0
        return outcome

    def restore(self, module: str) -> None:
        shutil.copy(PACKAGE / f"{module}.py", self.dir / "flask" / f"{module}.py")

    def run(self, module: str, text: str, tests: list[str], timeout: float) -> str:
        self.start(module, text, tests, timeout)
        while (outcome := self.poll()) is None:
            time.sleep(0.02)
        self.restore(module)
        return outcome

    def check_import(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(self.dir), PYTHONDONTWRITEBYTECODE="1")
        where = subprocess.run(
            [sys.executable, "-c", "import flask; print(flask.__file__)"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()
        if not where.startswith(str(self.dir)):
            sys.exit(f"mutate: tests would import flask from {where}, not the mutated copy")

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _preload() -> None:
    """Import what every run needs, except flask itself."""
    if "flask" in sys.modules:
        sys.exit("mutate: flask must not be imported before forking")
    import pytest  # noqa: F401
    import itsdangerous  # noqa: F401
    import jinja2  # noqa: F401
    import markupsafe  # noqa: F401
    import click  # noqa: F401
    import blinker  # noqa: F401
    import werkzeug.routing  # noqa: F401
    import werkzeug.test  # noqa: F401
    import werkzeug.wrappers  # noqa: F401


def tests_of(module: str) -> list[str]:
    return [name for name in TESTS[module] if (ROOT / name).exists()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(TESTS))
    parser.add_argument("--list", action="store_true", help="list the mutants only")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--only", help="only mutants whose id contains this text")
    parser.add_argument("--ids", help="only the mutants whose ids are listed in this file")
    args = parser.parse_args()

    equivalents = documented_equivalents()
    wanted = None
    if args.ids:
        wanted = {line.strip() for line in Path(args.ids).read_text().splitlines() if line.strip()}
    plan: list[tuple[Mutant, str]] = []
    for module in args.modules:
        source, mutants = collect(module)
        for mutant in mutants:
            if args.only and args.only not in mutant.ident:
                continue
            if wanted is not None and mutant.ident not in wanted:
                continue
            plan.append((mutant, apply(source, mutant)))
    if args.list:
        for mutant, _ in plan:
            mark = "  (equivalent)" if mutant.ident in equivalents else ""
            print(f"{mutant.module}.py:{mutant.line}: {mutant.ident}{mark}")
        print(f"{len(plan)} mutants")
        return 0

    os.chdir(ROOT)
    # Stopped from outside (make, a CI timeout): clean up as on Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    workspaces = [Workspace() for _ in range(max(1, args.jobs))]
    try:
        workspaces[0].check_import()
        _preload()
        # Baselines: the unmutated copy must pass, and sets the timeout.
        timeouts = {}
        for module in args.modules:
            started = time.monotonic()
            source = (PACKAGE / f"{module}.py").read_text()
            if workspaces[0].run(module, source, tests_of(module), 600) != "survived":
                print(f"mutate: the tests of {module} fail without a mutant", file=sys.stderr)
                return 2
            timeouts[module] = max(30.0, 4 * (time.monotonic() - started))

        results: list[tuple[Mutant, str]] = []
        queue = list(plan)
        running: list[tuple[Workspace, Mutant]] = []
        total = len(plan)
        while queue or running:
            for ws in workspaces:
                if queue and all(ws is not w for w, _ in running):
                    mutant, text = queue.pop(0)
                    ws.start(mutant.module, text, tests_of(mutant.module), timeouts[mutant.module])
                    running.append((ws, mutant))
            time.sleep(0.02)
            for ws, mutant in list(running):
                outcome = ws.poll()
                if outcome is None:
                    continue
                running.remove((ws, mutant))
                ws.restore(mutant.module)
                results.append((mutant, outcome))
                if outcome == "survived":
                    kind = "equivalent" if mutant.ident in equivalents else "SURVIVED"
                    print(f"[{len(results)}/{total}] {kind}: {mutant.module}.py:{mutant.line}: {mutant.ident}", flush=True)
    finally:
        for ws in workspaces:
            if ws.pid:  # interrupted: stop the run still going
                os.kill(ws.pid, 9)
                os.waitpid(ws.pid, 0)
            ws.close()

    survivors = [m for m, o in results if o == "survived"]
    known = known_survivors()
    undocumented = [m for m in survivors if m.ident not in equivalents and m.ident not in known]
    killed_but_listed = [m for m, o in results if o != "survived" and m.ident in equivalents]
    print()
    print(f"{'module':<12} {'mutants':>8} {'killed':>7} {'timeout':>8} {'equivalent':>11} {'survived':>9}")
    for module in args.modules:
        rows = [(m, o) for m, o in results if m.module == module]
        killed = sum(o == "killed" for _, o in rows)
        timed = sum(o == "timeout" for _, o in rows)
        eq = sum(o == "survived" and m.ident in equivalents for m, o in rows)
        bad = sum(o == "survived" and m.ident not in equivalents for m, o in rows)  # known ones included
        print(f"{module:<12} {len(rows):>8} {killed:>7} {timed:>8} {eq:>11} {bad:>9}")
    print(
        f"{'total':<12} {len(results):>8} "
        f"{sum(o == 'killed' for _, o in results):>7} "
        f"{sum(o == 'timeout' for _, o in results):>8} "
        f"{len(survivors) - len(undocumented):>11} {len(undocumented):>9}"
    )
    for m in killed_but_listed:
        print(f"note: listed as equivalent but killed (update docs/mutation.md): {m.ident}")
    for m in survivors:
        if m.ident in known:
            print(f"known survivor (docs/mutation.md): {m.module}.py:{m.line}: {m.ident}")
    for m in undocumented:
        print(f"SURVIVED: {m.module}.py:{m.line}: {m.ident}")
    return 1 if undocumented else 0


if __name__ == "__main__":
    sys.exit(main())

"""Each strategy of the ``flask`` command's app discovery on its own.

The expected answers are the objects the test modules define, and the
behaviour Flask documents for ``--app`` (see "Application Discovery" in
Flask's CLI docs): ``app``/``application``, else the only instance, else a
``create_app``/``make_app`` factory; ``wsgi.py`` before ``app.py``.
"""

from __future__ import annotations

import sys
import textwrap
import types
import typing as t
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from flask import current_app
from flask import Flask
from flask import discovery
from flask.cli.commands import optional_import
from flask.cli import FlaskGroup
from flask.cli import NoAppException
from flask.cli import run_command


def module(**attrs: object) -> types.ModuleType:
    mod = types.ModuleType("mod")
    mod.__dict__.update(attrs)
    return mod


# -- the strategies, one by one -------------------------------------------------


def test_strategy_order_is_documented_order() -> None:
    assert discovery.MODULE_STRATEGIES == (
        discovery.app_by_conventional_name,
        discovery.sole_app_instance,
        discovery.app_from_factory,
    )


def test_conventional_name_app_before_application() -> None:
    app, application = Flask("a"), Flask("b")
    assert (
        discovery.app_by_conventional_name(module(application=application))
        is application
    )
    assert (
        discovery.app_by_conventional_name(module(app=app, application=application))
        is app
    )
    # A non-app under the name is passed over, not an error.
    assert (
        discovery.app_by_conventional_name(module(app=3, application=application))
        is application
    )
    assert discovery.app_by_conventional_name(module(other=app)) is None


def test_sole_instance() -> None:
    app = Flask("only")
    assert discovery.sole_app_instance(module(web=app, n=1)) is app
    assert discovery.sole_app_instance(module(n=1)) is None

    with pytest.raises(
        NoAppException, match="Detected multiple Flask applications in module 'mod'"
    ):
        discovery.sole_app_instance(module(one=app, two=Flask("two")))


def test_factory_names_in_order() -> None:
    made = Flask("made")
    other = Flask("other")
    assert discovery.app_from_factory(module(make_app=lambda: made)) is made
    assert (
        discovery.app_from_factory(
            module(create_app=lambda: made, make_app=lambda: other)
        )
        is made
    )
    # A factory returning something else passes to the next name.
    assert (
        discovery.app_from_factory(module(create_app=lambda: 1, make_app=lambda: other))
        is other
    )
    assert discovery.app_from_factory(module(create_app="not callable")) is None


def test_factory_needing_arguments_is_explained() -> None:
    with pytest.raises(NoAppException, match=r"Use 'mod:create_app\(args\)'"):
        discovery.app_from_factory(module(create_app=lambda config: Flask("x")))


def test_find_best_app_stops_at_first_strategy() -> None:
    called = []

    def factory() -> Flask:
        called.append(True)
        return Flask("factory")

    app = Flask("named")
    assert discovery.find_best_app(module(app=app, create_app=factory)) is app
    assert called == []


# -- app references after the colon -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app", ("app", None)),
        (" app ", ("app", None)),
        ("make()", ("make", ([], {}))),
        ("make(1, 'x', k=[2, 3])", ("make", ([1, "x"], {"k": [2, 3]}))),
        ("make(*[1])", None),
        ("make(a)", None),
        ("a.b()", None),
        ("a.b", None),
        ("(", None),
    ],
)
def test_parse_app_reference(text: str, expected: tuple[object, ...] | None) -> None:
    if expected is None:
        with pytest.raises(NoAppException):
            discovery.parse_app_reference(text)
    else:
        assert tuple(discovery.parse_app_reference(text)) == expected


def test_import_path_with_windows_drive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The colon of "C:\..." is not the module/name separator.
    assert discovery._APP_SEPARATOR.split(r"C:\dir\mod.py:app") == [
        r"C:\dir\mod.py",
        "app",
    ]
    assert discovery._APP_SEPARATOR.split("C:/dir/mod.py") == ["C:/dir/mod.py"]


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> t.Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", sys.path[:])
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write_app(path: Path, name: str) -> None:
    path.write_text(f"from flask import Flask\napp = Flask({name!r})\n")


def test_app_from_import_path_file_and_name(app_dir: Path) -> None:
    (app_dir / "nimble_site.py").write_text(
        "from flask import Flask\nfirst = Flask('first')\nsecond = Flask('second')\n"
    )
    assert (
        discovery.app_from_import_path(str(app_dir / "nimble_site.py") + ":second").name
        == "second"
    )


def test_default_files_wsgi_before_app(app_dir: Path) -> None:
    assert discovery.app_from_default_files() is None
    write_app(app_dir / "app.py", "from_app")
    assert getattr(discovery.app_from_default_files(), "name", None) == "from_app"
    write_app(app_dir / "wsgi.py", "from_wsgi")
    assert getattr(discovery.app_from_default_files(), "name", None) == "from_wsgi"


def test_script_info_sources(app_dir: Path) -> None:
    write_app(app_dir / "app.py", "default")
    write_app(app_dir / "nimble_named.py", "named")
    made = Flask("made")
    assert (
        discovery.ScriptInfo(
            create_app=lambda: made, app_import_path="nimble_named"
        ).load_app()
        is made
    )
    assert (
        discovery.ScriptInfo(app_import_path="nimble_named").load_app().name == "named"
    )
    assert discovery.ScriptInfo().load_app().name == "default"

    with pytest.raises(NoAppException, match="Could not locate a Flask application"):
        discovery.ScriptInfo(create_app=lambda: None).load_app()  # type: ignore[arg-type,return-value]


# -- app contexts ----------------------------------------------------------------------


def test_enter_app_context_pushes_once_per_app() -> None:
    app, other = Flask("a"), Flask("b")

    with click.Context(click.Command("c")) as ctx:
        discovery.enter_app_context(ctx, app)
        pushed = current_app._get_current_object()  # type: ignore[attr-defined]
        discovery.enter_app_context(ctx, app)
        assert current_app._get_current_object() is pushed is app  # type: ignore[attr-defined]
        discovery.enter_app_context(ctx, other)
        assert current_app._get_current_object() is other  # type: ignore[attr-defined]

    with pytest.raises(RuntimeError):
        current_app._get_current_object()  # type: ignore[attr-defined]


def test_group_reports_load_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Flask:
        raise ValueError("boom")

    group = FlaskGroup(create_app=broken)
    result = CliRunner().invoke(group, ["--help"])
    # --help survives any error and shows its traceback ...
    assert result.exit_code == 0
    assert "ValueError: boom" in result.output

    # ... while running an app command lets it propagate.
    result = CliRunner().invoke(group, ["app-command"])
    assert isinstance(result.exception, ValueError)


# -- run's TLS options -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--key", __file__], '"--cert" must also be specified.'),
        (["--cert", __file__], 'Required when using "--cert".'),
        (
            ["--cert", "adhoc", "--key", __file__],
            'When "--cert" is "adhoc", "--key" is not used.',
        ),
        (
            ["--cert", "ssl.create_default_context"],
            "File 'ssl.create_default_context' does not exist.",
        ),
    ],
)
def test_key_problems(
    args: list[str], error: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", types.ModuleType("cryptography"))

    with pytest.raises(click.BadParameter) as info:
        run_command.make_context("run", args)

    assert info.value.message == error


def test_cert_and_key_are_folded() -> None:
    ctx = run_command.make_context("run", ["--cert", __file__, "--key", __file__])
    assert ctx.params["cert"] == (__file__, __file__)
    assert "key" not in ctx.params


def test_optional_import(monkeypatch: pytest.MonkeyPatch) -> None:
    assert optional_import("textwrap") is textwrap
    assert optional_import("nimble_surely_not_installed") is None
    monkeypatch.setitem(sys.modules, "textwrap", None)
    assert optional_import("textwrap") is None

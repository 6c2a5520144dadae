"""Tests for the ``flask`` command line (flask.cli)."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import ssl
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import flask.cli
from flask import current_app
from flask import Flask
from flask.cli import AppGroup
from flask.cli import find_app_by_string
from flask.cli import find_best_app
from flask.cli import FlaskGroup
from flask.cli import load_dotenv
from flask.cli import locate_app
from flask.cli import NoAppException
from flask.cli import prepare_import
from flask.cli import run_command
from flask.cli import ScriptInfo
from flask.cli import show_server_banner
from flask.cli import with_appcontext

ENV_KEYS = (
    "FLASK_APP",
    "FLASK_DEBUG",
    "FLASK_RUN_FROM_CLI",
    "FLASK_SKIP_DOTENV",
    "FLASK_RUN_PORT",
    "FLASK_ENV_FILE",
    "WERKZEUG_RUN_MAIN",
    "NIMBLE_A",
    "NIMBLE_B",
    "NIMBLE_C",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Commands write to os.environ; monkeypatch puts every key back.
    for key in ENV_KEYS:
        monkeypatch.setenv(key, "placeholder")
        monkeypatch.delenv(key)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def pkg_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A directory on sys.path for throwaway modules, forgotten afterwards."""
    root = tmp_path / "mods"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield root
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


# -- finding the app ---------------------------------------------------------


def test_find_best_app_prefers_conventional_name() -> None:
    ns = types.SimpleNamespace(__name__="ns", other=Flask("other"), app=Flask("main"))
    assert find_best_app(ns).name == "main"


def test_find_best_app_single_instance_any_name() -> None:
    ns = types.SimpleNamespace(__name__="ns", whatever=Flask("lonely"))
    assert find_best_app(ns).name == "lonely"


def test_find_best_app_reports_ambiguity() -> None:
    ns = types.SimpleNamespace(__name__="twin", a=Flask("a"), b=Flask("b"))

    with pytest.raises(NoAppException, match="multiple Flask applications"):
        find_best_app(ns)


def test_find_best_app_factory_needing_arguments() -> None:
    ns = types.SimpleNamespace(__name__="fac", create_app=lambda config: Flask("x"))

    with pytest.raises(NoAppException, match="could not call it without arguments"):
        find_best_app(ns)


def test_find_best_app_keeps_factory_type_error() -> None:
    def make_app() -> Flask:
        raise TypeError("from inside")

    ns = types.SimpleNamespace(__name__="fac", make_app=make_app)

    with pytest.raises(TypeError, match="from inside"):
        find_best_app(ns)


def test_find_best_app_nothing() -> None:
    with pytest.raises(NoAppException, match="Failed to find Flask application"):
        find_best_app(types.SimpleNamespace(__name__="empty", value=3))


def test_find_app_by_string_passes_literals() -> None:
    def factory(label: str, *, suffix: str = "") -> Flask:
        return Flask(label + suffix)

    ns = types.SimpleNamespace(__name__="ns", factory=factory)
    app = find_app_by_string(ns, "factory('one', suffix='_two')")
    assert app.name == "one_two"


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("factory(", "Failed to parse"),
        ("ns.factory()", "simple name"),
        ("factory(some_variable)", "literal values"),
        ("missing", "Failed to find attribute 'missing'"),
        ("factory(1, 2, 3)", "could not be called"),
        ("not_an_app", "valid Flask application"),
        ("1 + 2", "Failed to parse"),
    ],
)
def test_find_app_by_string_errors(expr: str, message: str) -> None:
    ns = types.SimpleNamespace(
        __name__="ns", factory=lambda label: Flask(label), not_an_app=42
    )

    with pytest.raises(NoAppException, match=message):
        find_app_by_string(ns, expr)


def test_prepare_import_nested_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", sys.path[:])
    write(tmp_path / "top" / "__init__.py", "")
    write(tmp_path / "top" / "sub" / "__init__.py", "")
    target = write(tmp_path / "top" / "sub" / "mod.py", "")

    assert prepare_import(str(target)) == "top.sub.mod"
    assert sys.path[0] == str(tmp_path.resolve())
    assert prepare_import(str(tmp_path / "top" / "sub" / "__init__.py")) == "top.sub"


def test_locate_app_missing_vs_broken(pkg_dir: Path) -> None:
    write(pkg_dir / "nimble_broken.py", "import nimble_no_such_dependency\n")

    assert locate_app("nimble_absent", None, raise_if_not_found=False) is None

    with pytest.raises(NoAppException, match="Could not import 'nimble_absent'"):
        locate_app("nimble_absent", None)

    # A failing import inside the module is always an error, with traceback.
    with pytest.raises(NoAppException, match="nimble_no_such_dependency"):
        locate_app("nimble_broken", None, raise_if_not_found=False)


def test_locate_app_by_name(pkg_dir: Path) -> None:
    write(
        pkg_dir / "nimble_two.py",
        """
        from flask import Flask
        first = Flask("first")
        second = Flask("second")
        """,
    )
    assert locate_app("nimble_two", "second").name == "second"


# -- ScriptInfo --------------------------------------------------------------


def test_script_info_factory_wins_and_is_cached() -> None:
    calls = []

    def create() -> Flask:
        calls.append(1)
        return Flask("made")

    info = ScriptInfo(app_import_path="does.not.exist", create_app=create)
    assert info.load_app() is info.load_app()
    assert calls == [1]
    assert info.data == {}


def test_script_info_debug_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    def create() -> Flask:
        app = Flask("dbg")
        app.debug = True
        return app

    monkeypatch.setenv("FLASK_DEBUG", "0")
    assert ScriptInfo(create_app=create).load_app().debug is False
    assert ScriptInfo(create_app=create, set_debug_flag=False).load_app().debug
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert ScriptInfo(create_app=lambda: Flask("d")).load_app().debug is True


def test_script_info_import_path_with_call(pkg_dir: Path) -> None:
    write(
        pkg_dir / "nimble_factory.py",
        """
        from flask import Flask
        def build(name):
            return Flask(name)
        """,
    )
    info = ScriptInfo(app_import_path="nimble_factory:build('built')")
    assert info.load_app().name == "built"


def test_script_info_default_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pkg_dir: Path
) -> None:
    monkeypatch.setattr(sys, "path", sys.path[:])
    monkeypatch.chdir(tmp_path)

    with pytest.raises(NoAppException, match="FLASK_APP"):
        ScriptInfo().load_app()

    write(tmp_path / "app.py", "from flask import Flask\napp = Flask('from_app_py')\n")
    assert ScriptInfo().load_app().name == "from_app_py"


# -- groups and the app context ----------------------------------------------


def test_appgroup_commands_get_app_context(runner: CliRunner) -> None:
    group = AppGroup("g")

    @group.command()
    def inside() -> None:
        click.echo(current_app.name)

    @group.command(with_appcontext=False)
    def outside() -> None:
        click.echo(bool(current_app))

    @group.group()
    def sub() -> None:
        pass

    assert isinstance(sub, AppGroup)

    @sub.command
    def deep() -> None:
        click.echo(current_app.name.upper())

    obj = ScriptInfo(create_app=lambda: Flask("ctxapp"))
    assert runner.invoke(group, ["inside"], obj=obj).output == "ctxapp\n"
    assert runner.invoke(group, ["outside"], obj=obj).output == "False\n"
    assert runner.invoke(group, ["sub", "deep"], obj=obj).output == "CTXAPP\n"


def test_with_appcontext_returns_value(runner: CliRunner) -> None:
    @click.command()
    @with_appcontext
    def cmd() -> str:
        return current_app.name

    obj = ScriptInfo(create_app=lambda: Flask("rv"))
    result = runner.invoke(cmd, obj=obj, standalone_mode=False)
    assert result.return_value == "rv"


def test_flaskgroup_app_commands_and_options(
    runner: CliRunner, pkg_dir: Path
) -> None:
    write(
        pkg_dir / "nimble_cmds.py",
        """
        import os
        import click
        from flask import Flask, current_app
        app = Flask("cmds")

        @app.cli.command("hello")
        def hello():
            click.echo(f"hi {current_app.name} {current_app.debug}")
        """,
    )
    cli = FlaskGroup()

    result = runner.invoke(cli, ["--app", "nimble_cmds", "--debug", "hello"])
    assert result.exit_code == 0, result.output
    assert result.output == "hi cmds True\n"
    assert os.environ["FLASK_DEBUG"] == "1"
    assert os.environ["FLASK_RUN_FROM_CLI"] == "true"

    help_text = runner.invoke(cli, ["-A", "nimble_cmds", "--help"]).output
    assert "hello" in help_text and "routes" in help_text


def test_flaskgroup_app_from_environment(
    runner: CliRunner, pkg_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        pkg_dir / "nimble_envapp.py",
        """
        import click
        from flask import Flask
        app = Flask("envapp")
        app.cli.command("name")(lambda: click.echo(app.name))
        """,
    )
    monkeypatch.setenv("FLASK_APP", "nimble_envapp")
    result = runner.invoke(FlaskGroup(), ["name"])
    assert result.output == "envapp\n"


def test_flaskgroup_help_shows_load_error(runner: CliRunner) -> None:
    def create() -> Flask:
        raise RuntimeError("factory exploded")

    result = runner.invoke(FlaskGroup(create_app=create), ["--help"])
    assert result.exit_code == 0
    assert "factory exploded" in result.output
    assert "Usage:" in result.output


def test_version_option(runner: CliRunner) -> None:
    result = runner.invoke(FlaskGroup(), ["--version"])
    assert result.exit_code == 0
    assert f"Python {platform.python_version()}" in result.output
    assert f"Flask {importlib.metadata.version('flask')}" in result.output
    assert f"Werkzeug {importlib.metadata.version('werkzeug')}" in result.output
    assert "--version" not in runner.invoke(
        FlaskGroup(add_version_option=False), ["--help"]
    ).output


def test_plugin_commands(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    @click.command()
    def plugged() -> None:
        click.echo("from plugin")

    class FakeEntryPoint:
        name = "plug"

        def load(self) -> click.Command:
            return plugged

    def fake_entry_points(**kwargs: str) -> list[FakeEntryPoint]:
        assert kwargs == {"group": "flask.commands"}
        return [FakeEntryPoint()]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    result = runner.invoke(FlaskGroup(), ["plug"])
    assert result.output == "from plugin\n"


def test_python_dash_m_flask() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Werkzeug" in result.stdout


# -- dotenv ------------------------------------------------------------------


def test_load_dotenv_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dotenv")
    write(tmp_path / ".flaskenv", "NIMBLE_A=flaskenv\nNIMBLE_B=flaskenv\n")
    write(tmp_path / ".env", "NIMBLE_A=env\n")
    extra = write(tmp_path / "extra.env", "NIMBLE_B=extra\nNIMBLE_C=extra\n")
    monkeypatch.setenv("NIMBLE_C", "already set")
    monkeypatch.chdir(tmp_path)

    assert load_dotenv(extra)
    assert os.environ["NIMBLE_A"] == "env"
    assert os.environ["NIMBLE_B"] == "extra"
    assert os.environ["NIMBLE_C"] == "already set"


def test_load_dotenv_nothing_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dotenv")
    monkeypatch.chdir(tmp_path)
    assert not load_dotenv(tmp_path / "missing.env", load_defaults=False)


def test_load_dotenv_without_package_hints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "dotenv", None)
    monkeypatch.chdir(tmp_path)
    assert load_dotenv() is False
    assert capsys.readouterr().err == ""

    write(tmp_path / ".env", "NIMBLE_A=1\n")
    assert load_dotenv() is False
    assert "Install python-dotenv" in capsys.readouterr().err
    assert "NIMBLE_A" not in os.environ


def test_env_file_option_and_skip(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("dotenv")
    write(tmp_path / ".env", "NIMBLE_A=default\n")
    custom = write(tmp_path / "custom.env", "NIMBLE_B=custom\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")

    runner.invoke(FlaskGroup(), ["-e", str(custom), "--help"])
    assert "NIMBLE_A" not in os.environ
    assert os.environ["NIMBLE_B"] == "custom"

    # Without arguments the help is shown, after the default files loaded.
    monkeypatch.delenv("FLASK_SKIP_DOTENV")
    result = runner.invoke(FlaskGroup(), [])
    assert "Usage:" in result.output
    assert os.environ["NIMBLE_A"] == "default"


# -- flask run ---------------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict:
    seen: dict = {}

    def fake_run_simple(host: str, port: int, app: object, **kwargs: object) -> None:
        seen.update(host=host, port=port, app=app, **kwargs)

    monkeypatch.setattr(flask.cli, "run_simple", fake_run_simple)
    return seen


def test_run_defaults_follow_debug(runner: CliRunner, served: dict) -> None:
    app = Flask("served")
    cli = FlaskGroup(create_app=lambda: app)

    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 0, result.output
    assert served["app"] is app
    assert (served["host"], served["port"]) == ("127.0.0.1", 5000)
    assert served["use_reloader"] is False and served["use_debugger"] is False
    assert served["threaded"] is True
    assert "Debug mode: off" in result.output

    result = runner.invoke(cli, ["run", "--debug", "--no-reload", "--without-threads"])
    assert served["use_reloader"] is False and served["use_debugger"] is True
    assert served["threaded"] is False
    assert "Debug mode: on" in result.output


def test_run_options_from_environment(
    runner: CliRunner, served: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = write(tmp_path / "a.cfg", "")
    second = write(tmp_path / "b.cfg", "")
    monkeypatch.setenv("FLASK_RUN_PORT", "8123")
    cli = FlaskGroup(create_app=lambda: Flask("envrun"))

    result = runner.invoke(
        cli, ["run", "--extra-files", f"{first}{os.pathsep}{second}", "-h", "0.0.0.0"]
    )
    assert result.exit_code == 0, result.output
    assert served["port"] == 8123
    assert served["host"] == "0.0.0.0"
    assert served["extra_files"] == [str(first), str(second)]
    assert served["exclude_patterns"] is None


def test_run_load_error_is_raised(runner: CliRunner, served: dict) -> None:
    def create() -> Flask:
        raise LookupError("no app here")

    result = runner.invoke(FlaskGroup(create_app=create), ["run"])
    assert isinstance(result.exception, LookupError)
    assert served == {}


def test_run_cert_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert = str(write(tmp_path / "c.pem", "x"))
    key = str(write(tmp_path / "k.pem", "x"))

    ctx = run_command.make_context("run", ["--key", key, "--cert", cert])
    assert ctx.params["cert"] == (cert, key)

    with pytest.raises(click.BadParameter, match="Required when using"):
        run_command.make_context("run", ["--cert", cert])

    with pytest.raises(click.BadParameter, match="must also be specified"):
        run_command.make_context("run", ["--key", key])

    monkeypatch.setitem(sys.modules, "cryptography", types.ModuleType("cryptography"))
    assert run_command.make_context("run", ["--cert", "ADHOC"]).params["cert"] == "adhoc"

    with pytest.raises(click.BadParameter, match="adhoc"):
        run_command.make_context("run", ["--cert", "adhoc", "--key", key])

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    monkeypatch.setitem(sys.modules, "nimble_ssl", types.SimpleNamespace(ctx=context))
    assert run_command.make_context("run", ["--cert", "nimble_ssl.ctx"]).params[
        "cert"
    ] is context

    with pytest.raises(click.BadParameter):
        run_command.make_context("run", ["--cert", "nimble_ssl.nothing"])


def test_server_banner(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    show_server_banner(True, "pkg:make()")
    out = capsys.readouterr().out
    assert " * Serving Flask app 'pkg:make()'" in out
    assert " * Debug mode: on" in out

    show_server_banner(None, None)
    assert capsys.readouterr().out == ""

    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    show_server_banner(False, "x")
    assert capsys.readouterr().out == ""


# -- flask shell -------------------------------------------------------------


def test_shell_namespace(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import code

    startup = write(tmp_path / "startup.py", "from_startup = 'yes'\n")
    monkeypatch.setenv("PYTHONSTARTUP", str(startup))
    monkeypatch.delattr(sys, "__interactivehook__", raising=False)
    seen: dict = {}

    def fake_interact(banner: str, local: dict) -> None:
        seen.update(banner=banner, local=local)

    monkeypatch.setattr(code, "interact", fake_interact)
    app = Flask("shellapp")
    app.shell_context_processor(lambda: {"answer": 42})

    result = runner.invoke(FlaskGroup(create_app=lambda: app), ["shell"])
    assert result.exit_code == 0, result.output
    assert "App: shellapp" in seen["banner"]
    assert seen["local"]["answer"] == 42
    assert seen["local"]["app"] is app
    assert seen["local"]["from_startup"] == "yes"


# -- flask routes ------------------------------------------------------------


def routes_output(runner: CliRunner, app: Flask, *args: str) -> list[str]:
    result = runner.invoke(FlaskGroup(create_app=lambda: app), ["routes", *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_routes_table(runner: CliRunner) -> None:
    app = Flask("routes", static_folder=None)
    app.add_url_rule("/b", endpoint="zeta", methods=["POST"])
    app.add_url_rule("/a", endpoint="alpha", methods=["GET", "PUT"])

    lines = routes_output(runner, app)
    assert lines[0].split() == ["Endpoint", "Methods", "Rule"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["alpha", "GET,", "PUT", "/a"]
    assert lines[3].split() == ["zeta", "POST", "/b"]

    by_rule = routes_output(runner, app, "--sort", "rule")
    assert [line.split()[0] for line in by_rule[2:]] == ["alpha", "zeta"]
    by_match = routes_output(runner, app, "-s", "match")
    assert [line.split()[0] for line in by_match[2:]] == ["zeta", "alpha"]

    assert "HEAD" in "\n".join(routes_output(runner, app, "--all-methods"))
    assert "HEAD" not in "\n".join(lines)


def test_routes_domain_column(runner: CliRunner) -> None:
    app = Flask("sub", static_folder=None)
    app.add_url_rule("/", endpoint="main")
    app.add_url_rule("/", endpoint="api", subdomain="api")

    lines = routes_output(runner, app, "--sort", "domain")
    assert lines[0].split() == ["Endpoint", "Methods", "Subdomain", "Rule"]
    assert lines[2].split()[0] == "main"
    assert lines[3].split() == ["api", "GET", "api", "/"]


def test_routes_empty(runner: CliRunner) -> None:
    app = Flask("bare", static_folder=None)
    assert routes_output(runner, app) == ["No routes were registered."]

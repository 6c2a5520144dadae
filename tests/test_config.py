"""Tests for flask.config, using Config directly (no app needed)."""

from __future__ import annotations

import json
import os
import textwrap
import types
from datetime import timedelta

import pytest

from flask.config import Config
from flask.config import ConfigAttribute

SETTING_ONE = 1
lower_ignored = 2


def test_init_defaults_and_root(tmp_path):
    cfg = Config(tmp_path, {"A": 1})
    assert cfg["A"] == 1
    assert cfg.root_path == tmp_path
    assert Config(tmp_path) == {}


def test_repr():
    cfg = Config(".", {"X": 1})
    assert repr(cfg) == "<Config {'X': 1}>"

    class Sub(Config):
        pass

    assert repr(Sub(".")).startswith("<Sub ")


def test_from_pyfile_relative_to_root(tmp_path):
    (tmp_path / "settings.py").write_text("DEBUG_LEVEL = 3\nhelper = 4\n")
    cfg = Config(tmp_path)
    assert cfg.from_pyfile("settings.py") is True
    assert cfg == {"DEBUG_LEVEL": 3}


def test_from_pyfile_sees_its_own_file(tmp_path):
    (tmp_path / "c.py").write_text("WHERE = __file__\n")
    cfg = Config(tmp_path)
    cfg.from_pyfile("c.py")
    assert cfg["WHERE"] == os.path.join(tmp_path, "c.py")


def test_from_pyfile_honours_coding_line(tmp_path):
    path = tmp_path / "enc.py"
    path.write_bytes('# -*- coding: latin-1 -*-\nNAME = "Müller"\n'.encode("latin-1"))
    cfg = Config(tmp_path)
    cfg.from_pyfile(path)
    assert cfg["NAME"] == "Müller"


def test_from_pyfile_missing(tmp_path):
    cfg = Config(tmp_path)
    with pytest.raises(OSError) as info:
        cfg.from_pyfile("nope.cfg")
    text = str(info.value)
    assert text.startswith("[Errno 2] Unable to load configuration file (")
    assert text.endswith("nope.cfg'")
    assert cfg.from_pyfile("nope.cfg", silent=True) is False
    # A directory is also "missing" for silent loading.
    assert cfg.from_pyfile(str(tmp_path), silent=True) is False


def test_from_envvar(tmp_path, monkeypatch):
    monkeypatch.delenv("MY_APP_SETTINGS", raising=False)
    cfg = Config(tmp_path)
    with pytest.raises(RuntimeError, match="'MY_APP_SETTINGS' is not set"):
        cfg.from_envvar("MY_APP_SETTINGS")
    assert cfg.from_envvar("MY_APP_SETTINGS", silent=True) is False

    (tmp_path / "s.py").write_text("TOKEN = 'abc'\n")
    monkeypatch.setenv("MY_APP_SETTINGS", str(tmp_path / "s.py"))
    assert cfg.from_envvar("MY_APP_SETTINGS") is True
    assert cfg["TOKEN"] == "abc"

    monkeypatch.setenv("MY_APP_SETTINGS", str(tmp_path / "absent.py"))
    with pytest.raises(OSError):
        cfg.from_envvar("MY_APP_SETTINGS")
    assert cfg.from_envvar("MY_APP_SETTINGS", silent=True) is False


def test_from_object_module_class_and_string():
    cfg = Config(".")
    cfg.from_object(__name__)
    assert cfg == {"SETTING_ONE": 1}

    class Base:
        INHERITED = "yes"

    class Child(Base):
        OWN = True
        mixed_Case = 1

    cfg = Config(".")
    cfg.from_object(Child())
    assert cfg == {"INHERITED": "yes", "OWN": True}

    mod = types.ModuleType("m")
    mod.PORT = 80  # type: ignore[attr-defined]
    cfg.from_object(mod)
    assert cfg["PORT"] == 80


def test_from_file_text_and_binary(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"HOST": "h", "low": 1}))
    cfg = Config(tmp_path)
    assert cfg.from_file("c.json", json.load) is True
    assert cfg == {"HOST": "h"}

    seen = []

    def load_bytes(f):
        seen.append(f.read())
        return {"RAW": True}

    cfg.from_file("c.json", load_bytes, text=False)
    assert isinstance(seen[0], bytes)
    assert cfg["RAW"] is True


def test_from_file_missing(tmp_path):
    cfg = Config(tmp_path)
    with pytest.raises(OSError, match="Unable to load configuration file"):
        cfg.from_file("gone.json", json.load)
    assert cfg.from_file("gone.json", json.load, silent=True) is False


def test_from_mapping_forms():
    cfg = Config(".")
    assert cfg.from_mapping({"A": 1, "b": 2}) is True
    cfg.from_mapping([("C", 3)])
    cfg.from_mapping(D=4, e=5)
    cfg.from_mapping({"F": 6}, G=7)
    assert cfg == {"A": 1, "C": 3, "D": 4, "F": 6, "G": 7}
    with pytest.raises(TypeError):
        cfg.from_mapping({}, {})  # type: ignore[misc]


def test_from_prefixed_env_decodes_json(monkeypatch):
    for key in list(os.environ):
        if key.startswith("APPX_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("APPX_NAME", "plain text")
    monkeypatch.setenv("APPX_ON", "false")
    monkeypatch.setenv("APPX_N", "12")
    monkeypatch.setenv("APPX_ITEMS", '["a", 1]')
    monkeypatch.setenv("OTHER_N", "1")
    cfg = Config(".")
    assert cfg.from_prefixed_env("APPX") is True
    assert cfg == {"NAME": "plain text", "ON": False, "N": 12, "ITEMS": ["a", 1]}


def test_from_prefixed_env_custom_loads(monkeypatch):
    monkeypatch.setenv("APPY_X", "5")
    cfg = Config(".")
    cfg.from_prefixed_env("APPY", loads=lambda s: s * 2)
    assert cfg["X"] == "55"


def test_from_prefixed_env_nesting(monkeypatch):
    monkeypatch.setenv("APPZ_DB__PORT", "5432")
    monkeypatch.setenv("APPZ_DB__OPTS__ssl", "true")
    monkeypatch.setenv("APPZ_FRESH__KEY", "v")
    cfg = Config(".", {"DB": {"HOST": "db", "PORT": 1}})
    cfg.from_prefixed_env("APPZ")
    assert cfg["DB"] == {"HOST": "db", "PORT": 5432, "OPTS": {"ssl": True}}
    assert cfg["FRESH"] == {"KEY": "v"}


def test_get_namespace_variants():
    cfg = Config(".", {"MAIL_HOST": "h", "MAIL_PORT": 25, "MAILER": 1, "DB": 2})
    assert cfg.get_namespace("MAIL_") == {"host": "h", "port": 25}
    assert cfg.get_namespace("MAIL_", lowercase=False) == {"HOST": "h", "PORT": 25}
    assert cfg.get_namespace("MAIL_", trim_namespace=False) == {
        "mail_host": "h",
        "mail_port": 25,
    }


class Holder:
    timeout = ConfigAttribute[timedelta](
        "TIMEOUT", get_converter=lambda v: timedelta(seconds=v)
    )
    name = ConfigAttribute[str]("NAME")

    def __init__(self) -> None:
        self.config = Config(".", {"TIMEOUT": 30, "NAME": "n"})


def test_config_attribute():
    h = Holder()
    assert h.timeout == timedelta(seconds=30)
    assert h.name == "n"
    h.name = "changed"
    assert h.config["NAME"] == "changed"
    h.config["TIMEOUT"] = 1
    assert h.timeout == timedelta(seconds=1)
    assert isinstance(Holder.__dict__["name"], ConfigAttribute)
    assert isinstance(Holder.name, ConfigAttribute)


def test_pyfile_executes_code(tmp_path):
    (tmp_path / "calc.py").write_text(
        textwrap.dedent(
            """
            import os
            VALUES = [i * 2 for i in range(3)]
            """
        )
    )
    cfg = Config(tmp_path)
    cfg.from_pyfile("calc.py")
    assert cfg == {"VALUES": [0, 2, 4]}

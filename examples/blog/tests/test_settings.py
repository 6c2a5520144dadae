"""Configuration from the environment: nothing set means nothing to start."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from blog.settings import database_url, from_environ


def test_defaults_need_no_services(tmp_path):
    config = from_environ({}, os.fspath(tmp_path))
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    assert url.get_backend_name() == "sqlite"
    assert url.database == os.path.join(os.fspath(tmp_path), "blog.sqlite3")
    assert config["AUTO_UPGRADE"] is True
    assert config["CACHE_TYPE"] == "SimpleCache"
    assert config["REDIS_URL"] is None
    assert config["CELERY"]["task_always_eager"] is True
    assert config["MAIL_SUPPRESS_SEND"] is True
    assert config["SECRET_KEY"] == "dev"


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgres://u:p@db:5432/blog", "psycopg"),
        ("postgresql://u:p@db:5432/blog", "psycopg"),
        ("postgresql+psycopg://u@db/blog", "psycopg"),
        ("sqlite:////srv/blog.db", None),
    ],
)
def test_database_url_driver(given, driver):
    url = make_url(database_url(given))  # SQLAlchemy's own parser judges
    assert url.get_driver_name() == (driver or url.get_dialect().driver)
    assert url.database == make_url(given.replace("postgres://", "postgresql://")).database


def test_services_from_environment(tmp_path):
    config = from_environ(
        {
            "DATABASE_URL": "postgresql://blog@127.0.0.1/blog",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
            "SECRET_KEY": "s3",
            "MAIL_SERVER": "smtp.internal",
            "BASE_URL": "https://blog.example/",
        },
        os.fspath(tmp_path),
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://blog@127.0.0.1/blog"
    assert config["AUTO_UPGRADE"] is False
    assert (config["CACHE_TYPE"], config["CACHE_REDIS_URL"]) == ("RedisCache", "redis://127.0.0.1:6379/3")
    assert config["CELERY"]["task_always_eager"] is False
    assert config["CELERY"]["broker_url"] == "amqp://guest:guest@127.0.0.1:5672//"
    assert config["MAIL_SUPPRESS_SEND"] is False
    assert config["SECRET_KEY"] == "s3"
    assert config["BASE_URL"] == "https://blog.example"


def test_instance_config_overrides_environment(tmp_path, monkeypatch):
    from blog import create_app

    app = create_app({"SECRET_KEY": "from-test", "AUTO_UPGRADE": False,
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"}, environ={"SECRET_KEY": "from-env"})
    assert app.config["SECRET_KEY"] == "from-test"

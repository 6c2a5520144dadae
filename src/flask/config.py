"""The application configuration mapping and its attribute descriptor."""

from __future__ import annotations

import errno
import json
import os
import types
import typing as t
from datetime import timedelta

from werkzeug.utils import import_string

T = t.TypeVar("T")

# ``OSError.errno`` values that mean "there is no such file"; with
# ``silent=True`` these are swallowed, anything else still raises.
_MISSING_FILE_ERRNOS = frozenset((errno.ENOENT, errno.EISDIR, errno.ENOTDIR))


class ConfigAttribute(t.Generic[T]):
    """Expose ``obj.config[name]`` as an attribute of ``obj``.

    ``get_converter`` is applied to the stored value on read, e.g. to turn
    an ``int`` of seconds into a ``timedelta``.
    """

    def __init__(
        self, name: str, get_converter: t.Callable[[t.Any], T] | None = None
    ) -> None:
        self.__name__ = name
        self.__doc__ = f"``config[{name!r}]``"
        self.get_converter = get_converter

    @t.overload
    def __get__(self, obj: None, owner: t.Any) -> ConfigAttribute[T]: ...

    @t.overload
    def __get__(self, obj: t.Any, owner: t.Any) -> T: ...

    def __get__(self, obj: t.Any | None, owner: t.Any | None = None) -> T | ConfigAttribute[T]:
        if obj is None:
            return self
        value = obj.config[self.__name__]
        convert = self.get_converter
        return value if convert is None else convert(value)

    def __set__(self, obj: t.Any, value: t.Any) -> None:
        obj.config[self.__name__] = value


class Config(dict[str, t.Any]):
    """A ``dict`` of settings with helpers to fill it from files, objects,
    mappings and environment variables.

    Only UPPERCASE keys are taken from objects, files and mappings, so that
    modules can keep lowercase helpers next to their settings.

    :param root_path: Relative file names are resolved against this path.
    :param defaults: Initial values.
    """

    def __init__(
        self,
        root_path: str | os.PathLike[str],
        defaults: dict[str, t.Any] | None = None,
    ) -> None:
        super().__init__()
        self.root_path = root_path
        if defaults:
            self.update(defaults)

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the Python file named by the environment variable
        ``variable_name`` using :meth:`from_pyfile`.

        :param silent: Return ``False`` instead of raising if the variable
            is unset or the file is missing.
        """
        filename = os.environ.get(variable_name, "")
        if not filename and not silent:
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set"
                " and as such configuration could not be loaded. Set"
                " this variable and make it point to a configuration"
                " file"
            )
        return bool(filename) and self.from_pyfile(filename, silent=silent)

    def from_prefixed_env(
        self, prefix: str = "FLASK", *, loads: t.Callable[[str], t.Any] = json.loads
    ) -> bool:
        """Load every environment variable named ``{prefix}_KEY`` into
        ``self["KEY"]``.

        Each value is passed through ``loads`` and kept as a string if that
        fails. A double underscore in the key nests into dicts:
        ``FLASK_DB__HOST`` sets ``self["DB"]["HOST"]``, creating the dict if
        needed. Variables are processed in sorted order.
        """
        start = f"{prefix}_"
        for name in sorted(os.environ):
            if not name.startswith(start):
                continue
            raw = os.environ[name]
            value: t.Any
            try:
                value = loads(raw)
            except Exception:
                # Plain strings such as ``value`` aren't valid JSON.
                value = raw

            *parents, leaf = name[len(start) :].split("__")
            target: t.Any = self
            for part in parents:
                target = target.setdefault(part, {})
            target[leaf] = value
        return True

    def _open_failed(self, exc: OSError, silent: bool) -> bool:
        # Shared OSError policy of the file loaders: either report "not
        # loaded" or re-raise with a message saying what was being done.
        if silent and exc.errno in _MISSING_FILE_ERRNOS:
            return False
        exc.strerror = f"Unable to load configuration file ({exc.strerror})"
        raise exc

    def from_pyfile(
        self, filename: str | os.PathLike[str], silent: bool = False
    ) -> bool:
        """Execute a Python file and load its UPPERCASE globals.

        :param filename: Absolute, or relative to :attr:`root_path`.
        :param silent: Return ``False`` instead of raising if the file is
            missing.
        """
        path = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = path
        try:
            # Reading bytes lets ``compile`` honour a PEP 263 coding line.
            with open(path, "rb") as f:
                source = f.read()
        except OSError as e:
            return self._open_failed(e, silent)
        exec(compile(source, path, "exec"), module.__dict__)
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Copy the UPPERCASE attributes of ``obj`` into the config.

        ``obj`` may be a module, class or instance, or an import string
        naming one. Class attributes inherited from base classes count.
        """
        source = import_string(obj) if isinstance(obj, str) else obj
        # Only UPPERCASE names are read: getattr on others could run
        # properties or fail (``__abstractmethods__`` on a class).
        self._set_upper((key, getattr(source, key)) for key in dir(source) if key.isupper())

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: t.Callable[[t.IO[t.Any]], t.Mapping[str, t.Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a data file with ``load`` and pass the result to
        :meth:`from_mapping`.

        :param load: E.g. ``json.load`` or ``tomllib.load``.
        :param silent: Return ``False`` instead of raising if the file is
            missing.
        :param text: Open in text mode; pass ``False`` for loaders that
            want bytes, such as ``tomllib.load``.
        """
        path = os.path.join(self.root_path, filename)
        try:
            with open(path, "r" if text else "rb") as f:
                data = load(f)
        except OSError as e:
            return self._open_failed(e, silent)
        return self.from_mapping(data)

    def from_mapping(
        self, mapping: t.Mapping[str, t.Any] | None = None, **kwargs: t.Any
    ) -> bool:
        """Set the UPPERCASE keys of ``mapping`` and ``kwargs``; others are
        ignored. Always returns ``True``.
        """
        if mapping is not None:
            # Also a list of pairs, as for dict().
            self._set_upper(dict(mapping).items())
        self._set_upper(kwargs.items())
        return True

    def _set_upper(self, items: t.Iterable[tuple[str, t.Any]]) -> None:
        # Item by item through ``self[key]``, so a subclass's __setitem__
        # sees each value (dict.update would bypass it).
        for key, value in items:
            if key.isupper():
                self[key] = value

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, t.Any]:
        """Collect the keys starting with ``namespace`` into a new dict.

        ``get_namespace("IMAGE_STORE_")`` turns ``IMAGE_STORE_PATH`` into
        ``{"path": ...}``; ``trim_namespace=False`` keeps the prefix and
        ``lowercase=False`` keeps the case.
        """
        found: dict[str, t.Any] = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            name = key[len(namespace) :] if trim_namespace else key
            found[name.lower() if lowercase else name] = value
        return found

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


def make_timedelta(value: timedelta | int | None) -> timedelta | None:
    """A duration config value as a ``timedelta`` (ints are seconds)."""
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


#: Flask's config keys and their defaults (``Flask.default_config``).
DEFAULT_CONFIG: dict[str, t.Any] = {
    "DEBUG": None,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "USE_X_SENDFILE": False,
    "TRUSTED_HOSTS": None,
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_SAMESITE": None,
    "SESSION_REFRESH_EACH_REQUEST": True,
    "MAX_CONTENT_LENGTH": None,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "TRAP_HTTP_EXCEPTIONS": False,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "PREFERRED_URL_SCHEME": "http",
    "TEMPLATES_AUTO_RELOAD": None,
    "MAX_COOKIE_SIZE": 4093,
    "PROVIDE_AUTOMATIC_OPTIONS": True,
}

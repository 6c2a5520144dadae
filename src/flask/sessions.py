"""Client-side sessions and the interface for plugging in other backends.

The default backend keeps the whole session in a cookie signed with
ItsDangerous. Anything that implements :class:`SessionInterface` can be
assigned to :attr:`Flask.session_interface` instead.
"""

from __future__ import annotations

import collections.abc as cabc
import hashlib
import typing as t
from datetime import datetime
from datetime import timezone

from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict
from werkzeug.http import dump_cookie
from werkzeug.sansio.response import Response as _SansioResponse

from ._accel import enabled
from ._accel.signing import SessionTokenSerializer
from .json.tag import TaggedJSONSerializer

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .wrappers import Request
    from .wrappers import Response

_PERMANENT_KEY = "_permanent"


class SessionMixin(cabc.MutableMapping[str, t.Any]):
    """Adds the attributes Flask expects on a session to a mapping.

    Custom session classes mix this in so that :func:`save_session` and the
    request machinery can ask whether the session changed or was read.
    """

    #: Whether the session was created during this request. The default
    #: implementation cannot tell, so it always says ``False``.
    new = False

    #: Whether the session changed. Mutating a value in place (for example
    #: appending to a list stored in the session) cannot be detected, so set
    #: this to ``True`` yourself in that case.
    modified = True

    #: Whether the session was read or written; used to add ``Vary: Cookie``.
    accessed = True

    @property
    def permanent(self) -> bool:
        """Whether the session lives for ``PERMANENT_SESSION_LIFETIME``
        instead of ending with the browser session."""
        return bool(self.get(_PERMANENT_KEY, False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self[_PERMANENT_KEY] = bool(value)


# Werkzeug's CallbackDict and MutableMapping type update()'s argument apart;
# both accept the same values at run time.
class SecureCookieSession(CallbackDict[str, t.Any], SessionMixin):  # pyright: ignore[reportIncompatibleMethodOverride]
    """The session type used by :class:`SecureCookieSessionInterface`.

    Any write sets :attr:`modified`; reads (including membership tests,
    ``len`` and iteration, which reveal the set of keys) set
    :attr:`accessed`.
    """

    modified = False
    accessed = False

    def __init__(
        self,
        initial: cabc.Mapping[str, t.Any]
        | cabc.Iterable[tuple[str, t.Any]]
        | None = None,
    ) -> None:
        def on_update(self: SecureCookieSession) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)

    # The cookie's content decides what these return, so every one of them
    # must make caches vary on the cookie.
    def __getitem__(self, key: str) -> t.Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        return super().setdefault(key, default)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return super().__contains__(key)

    def __len__(self) -> int:
        self.accessed = True
        return super().__len__()

    def __iter__(self) -> t.Iterator[str]:
        self.accessed = True
        return super().__iter__()

    def keys(self) -> t.KeysView[str]:  # type: ignore[override]  # the mapping's view type, as MutableMapping declares it
        self.accessed = True
        return super().keys()

    def values(self) -> t.ValuesView[t.Any]:  # type: ignore[override]  # the mapping's view type, as MutableMapping declares it
        self.accessed = True
        return super().values()

    def items(self) -> t.ItemsView[str, t.Any]:  # type: ignore[override]  # the mapping's view type, as MutableMapping declares it
        self.accessed = True
        return super().items()

    @property
    def permanent(self) -> bool:
        # Looked up by the session interface itself when saving; that
        # bookkeeping must not count as the application reading the session.
        return bool(dict.get(self, _PERMANENT_KEY, False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self[_PERMANENT_KEY] = bool(value)


class NullSession(SecureCookieSession):
    """Stands in for the session when none could be opened (usually because
    no secret key is set). Reading works and finds nothing; writing raises
    a helpful error."""

    def _fail(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise RuntimeError(
            "The session is unavailable because no secret key was set.  Set"
            " the secret_key on the application to something unique and"
            " secret."
        )

    __setitem__ = __delitem__ = _fail
    clear = pop = popitem = _fail
    update = setdefault = __ior__ = _fail
    del _fail


def _is_empty(session: SessionMixin) -> bool:
    # ``len`` on a tracking session would flag it as accessed.
    if isinstance(session, dict):
        return dict.__len__(session) == 0
    return not session


def _snapshot(session: SessionMixin) -> dict[str, t.Any]:
    # Copied through ``dict``'s own methods so saving does not count as a read.
    if isinstance(session, dict):
        return dict(dict.items(session))
    return dict(session)


# Characters of a signed token (URL-safe base64 and "."): a cookie value
# Werkzeug never quotes (``value.strip(_TOKEN_CHARS)`` is empty for one).
_TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
# (name, attributes) -> what Werkzeug's dump_cookie puts after the value.
_cookie_tails: dict[tuple[t.Any, ...], str] = {}


def _token_cookie_header(
    name: str, value: str, attrs: dict[str, t.Any], max_size: int
) -> str | None:
    """The ``Set-Cookie`` header ``set_cookie`` makes for a session token,
    or ``None`` when ``set_cookie`` must make it.

    Werkzeug's ``dump_cookie`` re-derives the same attributes (path
    quoting, IDNA domain, SameSite check) for every response: 6% of a
    session request. Its output is the name, ``=``, the value and then a
    tail that depends only on the attributes, so the tail is made by
    ``dump_cookie`` itself once per set of attributes. Only for a token
    value (which is never quoted) and a cookie without an expiry (the
    default); a cookie over ``max_size`` is left to ``set_cookie``, which
    warns about it.
    """
    if attrs["expires"] is not None or value.strip(_TOKEN_CHARS):
        return None
    key = (name, *attrs.items())
    tail = _cookie_tails.get(key)
    if tail is None:
        sample = dump_cookie(name, "0", max_size=0, **attrs)
        head = f"{name.encode().decode('latin1')}=0"
        if not sample.startswith(head):  # pragma: no cover - a different Werkzeug
            return None
        tail = sample[len(head) :]
        if len(_cookie_tails) < 64:
            _cookie_tails[key] = tail
    header = f"{name.encode().decode('latin1')}={value}{tail}"
    if max_size and len(header) > max_size:
        return None
    return header


def _vary_on_cookie(response: Response) -> None:
    """Add ``Cookie`` to the ``Vary`` header. Without a ``Vary`` header yet
    (the usual case) it is added directly; parsing it into a HeaderSet and
    back was a tenth of saving a session."""
    if any(key.lower() == "vary" for key, _ in response.headers):
        response.vary.add("Cookie")
    else:
        response.headers.add("Vary", "Cookie")


def _lazy_sha1(data: bytes = b"") -> t.Any:
    # Resolved on call so that FIPS builds without SHA-1 can still import
    # Flask and pick another digest before the first request.
    return hashlib.sha1(data)


class SessionInterface:
    """The contract between Flask and a session backend.

    Subclasses implement :meth:`open_session` and :meth:`save_session`; the
    helpers here read the ``SESSION_COOKIE_*`` settings so that backends
    behave consistently.
    """

    #: Returned by :meth:`make_null_session` when :meth:`open_session`
    #: gives back ``None``.
    null_session_class: type[SessionMixin] = NullSession

    #: Whether session data is pickled; kept for extensions that ask.
    pickle_based = False

    def make_null_session(self, app: Flask) -> SessionMixin:
        """Build the placeholder session used when no real one is available."""
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Whether ``obj`` is the placeholder from :meth:`make_null_session`."""
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Flask) -> str:
        """The cookie name, from ``SESSION_COOKIE_NAME``."""
        return t.cast(str, app.config["SESSION_COOKIE_NAME"])

    def get_cookie_domain(self, app: Flask) -> str | None:
        """The cookie's ``Domain``, from ``SESSION_COOKIE_DOMAIN``; ``None``
        makes a host-only cookie."""
        return app.config.get("SESSION_COOKIE_DOMAIN") or None

    def get_cookie_path(self, app: Flask) -> str:
        """The cookie's ``Path``: ``SESSION_COOKIE_PATH``, else
        ``APPLICATION_ROOT``."""
        return t.cast(
            str,
            app.config.get("SESSION_COOKIE_PATH")
            or app.config.get("APPLICATION_ROOT")
            or "/",
        )

    def get_cookie_httponly(self, app: Flask) -> bool:
        """Whether the cookie is hidden from scripts (``SESSION_COOKIE_HTTPONLY``)."""
        return bool(app.config.get("SESSION_COOKIE_HTTPONLY", True))

    def get_cookie_secure(self, app: Flask) -> bool:
        """Whether the cookie is HTTPS only (``SESSION_COOKIE_SECURE``)."""
        return bool(app.config.get("SESSION_COOKIE_SECURE", False))

    def get_cookie_samesite(self, app: Flask) -> str | None:
        """The ``SameSite`` value, from ``SESSION_COOKIE_SAMESITE``."""
        return app.config.get("SESSION_COOKIE_SAMESITE")

    def get_cookie_partitioned(self, app: Flask) -> bool:
        """Whether to set ``Partitioned`` (``SESSION_COOKIE_PARTITIONED``)."""
        return bool(app.config.get("SESSION_COOKIE_PARTITIONED", False))

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        """When the cookie expires: ``None`` (end of the browser session)
        unless the session is permanent."""
        if session.permanent:
            return datetime.now(timezone.utc) + app.permanent_session_lifetime
        return None

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Whether :meth:`save_session` should send the cookie: when the
        session changed, or when it is permanent and
        ``SESSION_REFRESH_EACH_REQUEST`` asks for its expiry to be renewed."""
        if session.modified:
            return True
        return bool(app.config.get("SESSION_REFRESH_EACH_REQUEST", True)) and (
            session.permanent
        )

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """Load the session for ``request``. Return ``None`` to make Flask use
        :meth:`make_null_session` instead."""
        raise NotImplementedError

    def save_session(
        self, app: Flask, session: SessionMixin, response: Response
    ) -> None:
        """Persist ``session`` at the end of the request, typically by
        setting a cookie on ``response``."""
        raise NotImplementedError


#: The tagged JSON serializer cookie sessions use by default; Quart and
#: other session interfaces import it to write the same format.
session_json_serializer = TaggedJSONSerializer()


class SecureCookieSessionInterface(SessionInterface):
    """Stores the session in a cookie signed with the app's secret key.

    The data is readable by the client but cannot be changed without the
    key. ``SECRET_KEY_FALLBACKS`` lists older keys that still verify.
    """

    #: Mixed into the key derivation so other signed values made with the
    #: same secret cannot be passed off as a session.
    # The request path may skip opening an untouched session when the
    # request carries no session cookie: there is nothing to refresh.
    _cookie_based = True

    salt = "cookie-session"
    #: Hash used for the signature.
    digest_method = staticmethod(_lazy_sha1)
    #: How ItsDangerous derives the signing key from the secret.
    key_derivation = "hmac"
    #: Turns the session dict into a string and back.
    serializer = session_json_serializer
    session_class = SecureCookieSession

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The signer for the app's keys, or ``None`` without ``SECRET_KEY``.

        Serializers are reused for as long as the keys and settings that
        make them stay the same.
        """
        secret = app.secret_key
        if not secret:
            return None
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or ()
        # Opening and saving a session both ask; the last answer is checked
        # first, without building the cache key (3% of a session request).
        settings = (
            secret,
            tuple(fallbacks),
            self.salt,
            self.key_derivation,
            self.digest_method,
            self.serializer,
        )
        last: tuple[tuple[t.Any, ...], URLSafeTimedSerializer] | None = self.__dict__.get(
            "_last_serializer"
        )
        if last is not None and last[0] == settings:
            return last[1]
        # ItsDangerous signs with the last key and verifies with all of them;
        # the fallbacks are listed newest first, so reverse them.
        keys = (*reversed(tuple(fallbacks)), secret)
        cache_key = (
            keys,
            self.salt,
            self.key_derivation,
            self.digest_method,
            id(self.serializer),
        )
        cache: dict[tuple[t.Any, ...], URLSafeTimedSerializer] = self.__dict__.setdefault(
            "_serializers", {}
        )
        serializer = cache.get(cache_key)
        if serializer is None:
            if len(cache) > 32:  # rotated keys must not pile up
                cache.clear()
            # ItsDangerous's own class when the shortcut is off.
            kind: type[URLSafeTimedSerializer] = (
                SessionTokenSerializer if enabled("session-signing") else URLSafeTimedSerializer
            )
            # The keys are all str or all bytes, as ItsDangerous needs.
            secret_keys: t.Any = list(keys)
            serializer = cache[cache_key] = kind(
                secret_keys,
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={
                    "key_derivation": self.key_derivation,
                    "digest_method": self.digest_method,
                },
            )
        self.__dict__["_last_serializer"] = (settings, serializer)
        return serializer

    def open_session(
        self, app: Flask, request: Request
    ) -> SecureCookieSession | None:
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        raw = request.cookies.get(self.get_cookie_name(app))
        if not raw:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = signer.loads(raw, max_age=max_age)
        except BadSignature:
            # Tampered, expired, signed with a retired key or not ours at
            # all: the visitor simply starts over with an empty session.
            return self.session_class()
        if not isinstance(data, dict):
            return self.session_class()
        return self.session_class(data)

    def save_session(
        self, app: Flask, session: SessionMixin, response: Response
    ) -> None:
        action, name, value, cookie, vary = self._cookie_plan(app, session)
        if action == "delete":
            response.delete_cookie(name, **cookie)
        elif action == "set":
            header = None
            if type(response).set_cookie is _SansioResponse.set_cookie:
                header = _token_cookie_header(
                    name, value, cookie, response.max_cookie_size  # type: ignore[arg-type]  # the plan sets a value whenever the action is 'set'
                )
            if header is None:
                response.set_cookie(name, value, **cookie)  # type: ignore[arg-type]  # the plan sets a value whenever the action is 'set'
            else:
                response.headers.add("Set-Cookie", header)
        if vary:
            _vary_on_cookie(response)

    def _plain_headers(
        self, app: Flask, session: SessionMixin
    ) -> list[tuple[str, str]] | None:
        """The headers :meth:`save_session` would add to a fresh default
        response, for the request path's answer without a response object;
        ``None`` when one is needed after all: ``save_session`` overridden,
        the cookie deleted or given an expiry date, or a value or size that
        ``set_cookie`` must handle."""
        if (
            type(self).save_session is not SecureCookieSessionInterface.save_session
            or "save_session" in self.__dict__
        ):
            return None
        action, name, value, cookie, vary = self._cookie_plan(app, session, plain=True)
        headers = []
        if action == "set":
            header = _token_cookie_header(
                name, value, cookie, app.config["MAX_COOKIE_SIZE"]  # type: ignore[arg-type]  # the plan sets a value whenever the action is 'set'
            )
            if header is None:
                return None
            headers.append(("Set-Cookie", header))
        elif action:
            return None
        if vary:
            headers.append(("Vary", "Cookie"))
        return headers

    def _cookie_plan(
        self, app: Flask, session: SessionMixin, plain: bool = False
    ) -> tuple[str, str, str | None, dict[str, t.Any], bool]:
        """What saving ``session`` does: ``(action, cookie name, value,
        cookie attributes, add Vary: Cookie)``; the action is ``"set"``,
        ``"delete"`` or ``""``. With ``plain``, a cookie with an expiry
        date stops at ``"expires"``, before the value is signed."""
        name = self.get_cookie_name(app)
        cookie: dict[str, t.Any] = dict(
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            httponly=self.get_cookie_httponly(app),
            partitioned=self.get_cookie_partitioned(app),
        )
        # Decided before anything below reads the session on its own behalf.
        vary = session.accessed
        if _is_empty(session):
            # Emptied during this request: tell the browser to drop it.
            if session.modified:
                return "delete", name, None, cookie, True
            return "", name, None, cookie, vary
        if not self.should_set_cookie(app, session):
            return "", name, None, cookie, vary
        signer = self.get_signing_serializer(app)
        if signer is None:  # pragma: no cover - open_session would have failed
            return "", name, None, cookie, vary
        expires = self.get_expiration_time(app, session)
        if plain and expires is not None:
            return "expires", name, None, cookie, True
        value = signer.dumps(_snapshot(session))
        cookie["expires"] = expires
        return "set", name, value, cookie, True

"""Compact, lossless JSON for types JSON lacks, as used by session cookies.

A tagged value is a one-key object whose key is the tag: ``{" t": [1, 2]}``
is the tuple ``(1, 2)``, ``{" b": "..."}`` base64 bytes, ``{" m": ...}``
markup, ``{" u": ...}`` a UUID and ``{" d": ...}`` an HTTP date. A real dict
whose only key looks like a tag is wrapped as ``{" di": {"<key>__": v}}``
so it can't be mistaken for one. Tags start with a space to make clashes
with ordinary keys unlikely.

Extra types are supported by subclassing :class:`JSONTag` and calling
:meth:`TaggedJSONSerializer.register`.
"""

from __future__ import annotations

import typing as t
from base64 import b64decode
from base64 import b64encode
from datetime import datetime
from uuid import UUID

from markupsafe import Markup
from werkzeug.http import http_date
from werkzeug.http import parse_date

from ..json import _dumps_compact
from ..json import loads


class JSONTag:
    """One tagged type: how to recognise it and convert it both ways."""

    __slots__ = ("serializer",)

    #: The tag's key in the JSON output. Empty for tags that only recurse
    #: into containers and never appear in the output.
    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: t.Any) -> bool:
        """Whether this tag handles ``value``."""
        raise NotImplementedError

    def to_json(self, value: t.Any) -> t.Any:
        """Convert ``value`` to something JSON can hold (untagged)."""
        raise NotImplementedError

    def to_python(self, value: t.Any) -> t.Any:
        """Rebuild the Python value from what :meth:`to_json` produced."""
        raise NotImplementedError

    def tag(self, value: t.Any) -> dict[str, t.Any]:
        """Convert ``value`` and wrap it under :attr:`key`."""
        return {self.key: self.to_json(value)}


class _TypeTag(JSONTag):
    """A tag for the instances of one Python type (and its subclasses)."""

    __slots__ = ()

    #: The type whose instances this tag handles.
    python_type: t.ClassVar[type[t.Any]]

    def check(self, value: t.Any) -> bool:
        return isinstance(value, self.python_type)


class TagDict(JSONTag):
    """A dict with a single key that is also a registered tag.

    The key gets a ``__`` suffix so that the inner object no longer looks
    tagged; :meth:`to_python` removes it again.
    """

    __slots__ = ()
    key = " di"

    def check(self, value: t.Any) -> bool:
        if not isinstance(value, dict) or len(value) != 1:
            return False
        (only_key,) = value
        return only_key in self.serializer.tags

    def to_json(self, value: t.Any) -> t.Any:
        ((name, item),) = value.items()
        return {f"{name}__": self.serializer.tag(item)}

    def to_python(self, value: t.Any) -> t.Any:
        ((name, item),) = value.items()
        return {name[:-2]: item}


class PassDict(_TypeTag):
    """Any other dict: kept as a dict, with its values tagged."""

    __slots__ = ()
    python_type = dict

    def to_json(self, value: t.Any) -> t.Any:
        # JSON keys are always strings, so only the values need tagging.
        tag = self.serializer.tag
        return {k: tag(v) for k, v in value.items()}

    def tag(self, value: t.Any) -> t.Any:
        return self.to_json(value)


class TagTuple(_TypeTag):
    """A tuple, stored as a tagged list."""

    __slots__ = ()
    key = " t"
    python_type = tuple

    def to_json(self, value: t.Any) -> t.Any:
        return [self.serializer.tag(item) for item in value]

    def to_python(self, value: t.Any) -> t.Any:
        return tuple(value)


class PassList(_TypeTag):
    """A list: kept as a list, with its items tagged."""

    __slots__ = ()
    python_type = list

    def to_json(self, value: t.Any) -> t.Any:
        return [self.serializer.tag(item) for item in value]

    def tag(self, value: t.Any) -> t.Any:
        return self.to_json(value)


class TagBytes(_TypeTag):
    """Bytes, stored base64 encoded."""

    __slots__ = ()
    key = " b"
    python_type = bytes

    def to_json(self, value: t.Any) -> t.Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: t.Any) -> t.Any:
        return b64decode(value)


class TagMarkup(JSONTag):
    """Anything with ``__html__``, stored as its HTML and loaded back as
    :class:`~markupsafe.Markup`.
    """

    __slots__ = ()
    key = " m"

    def check(self, value: t.Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: t.Any) -> t.Any:
        return str(value.__html__())

    def to_python(self, value: t.Any) -> t.Any:
        return Markup(value)


class TagUUID(_TypeTag):
    """A UUID, stored as its 32 hex digits."""

    __slots__ = ()
    key = " u"
    python_type = UUID

    def to_json(self, value: t.Any) -> t.Any:
        return value.hex

    def to_python(self, value: t.Any) -> t.Any:
        return UUID(value)


class TagDateTime(_TypeTag):
    """A datetime, stored as an HTTP date (second precision, UTC)."""

    __slots__ = ()
    key = " d"
    python_type = datetime

    def to_json(self, value: t.Any) -> t.Any:
        return http_date(value)

    def to_python(self, value: t.Any) -> t.Any:
        return parse_date(value)


# Types no default tag converts (a str with __html__ is a subclass).
_SCALARS = frozenset({str, int, float, bool, type(None)})


class TaggedJSONSerializer:
    """Serialize values with type tags so they load back unchanged.

    Tags are tried in :attr:`order`; the first whose ``check`` accepts a
    value converts it. :attr:`tags` maps keys to tags for loading.
    """

    __slots__ = ("tags", "order", "_stock_order")

    #: Tag classes registered on every new serializer, in checking order.
    #: ``TagDict`` must come before ``PassDict`` so it gets a chance first.
    default_tags: list[type[JSONTag]] = [
        TagDict,
        PassDict,
        TagTuple,
        PassList,
        TagBytes,
        TagMarkup,
        TagUUID,
        TagDateTime,
    ]

    def __init__(self) -> None:
        self.tags: dict[str, JSONTag] = {}
        self.order: list[JSONTag] = []
        for tag_class in self.default_tags:
            self.register(tag_class)
        # The order as built from Flask's own tags, while it still is.
        self._stock_order: tuple[JSONTag, ...] | None = None
        if (
            type(self).tag is TaggedJSONSerializer.tag
            and type(self).default_tags is TaggedJSONSerializer.default_tags
        ):
            self._stock_order = tuple(self.order)

    def register(
        self,
        tag_class: type[JSONTag],
        force: bool = False,
        index: int | None = None,
    ) -> None:
        """Add a tag class to this serializer.

        :param force: Replace an existing tag with the same key instead of
            raising :exc:`KeyError`.
        :param index: Position in :attr:`order` to insert at (same meaning
            as :meth:`list.insert`); ``None`` appends.
        """
        tag = tag_class(self)
        if tag.key:
            if tag.key in self.tags and not force:
                raise KeyError(f"Tag '{tag.key}' is already registered.")
            self.tags[tag.key] = tag
        self.order.insert(len(self.order) if index is None else index, tag)

    def tag(self, value: t.Any) -> t.Any:
        """Convert ``value`` to its tagged JSON-compatible form."""
        chosen = next((tag for tag in self.order if tag.check(value)), None)
        return value if chosen is None else chosen.tag(value)

    def untag(self, value: dict[str, t.Any]) -> t.Any:
        """Turn one tagged object back into its Python value; anything
        else is returned unchanged.
        """
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        if tag is None:
            return value
        return tag.to_python(value[key])

    def _untag_scan(self, value: t.Any) -> t.Any:
        # Bottom-up, so a tag's ``to_python`` receives already-untagged
        # contents (e.g. the items of a tuple).
        if isinstance(value, dict):
            return self.untag({k: self._untag_scan(v) for k, v in value.items()})
        if isinstance(value, list):
            return [self._untag_scan(item) for item in value]
        return value

    def _tag_stock(self, value: t.Any) -> t.Any:
        """:meth:`tag` for Flask's own tags, without asking each tag about
        every dict, list and scalar: what they would answer is known
        (4.0 -> 1.3 us for a one-item session). Anything else is asked."""
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is dict:
            if len(value) == 1 and next(iter(value)) in self.tags:
                return self.tag(value)  # a dict that looks tagged
            return {k: self._tag_stock(v) for k, v in value.items()}
        if kind is list:
            return [self._tag_stock(item) for item in value]
        return self.tag(value)

    def dumps(self, value: t.Any) -> str:
        """Tag ``value`` and serialize it as compact JSON."""
        stock = self._stock_order
        if stock is not None and tuple(self.order) == stock:
            return _dumps_compact(self._tag_stock(value))
        return _dumps_compact(self.tag(value))

    def loads(self, value: str) -> t.Any:
        """Parse JSON produced by :meth:`dumps` and untag it."""
        return self._untag_scan(loads(value))

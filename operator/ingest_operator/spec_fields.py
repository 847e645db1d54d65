"""Typed, path-naming reads of the raw spec dict: the mechanics `spec` parses with.

Nothing here knows the IngestService's fields; it knows how to read one
object of a spec (strings, integers within bounds, enums, nested objects)
and to say which field is wrong, by its path, when a value is not what the
schema promises.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

_EnumT = TypeVar("_EnumT", bound=StrEnum)


class InvalidSpecError(ValueError):
    """The spec cannot be parsed; `path` names the field (e.g. spec.s3.bucket)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class Fields:
    """Typed reads of one object of the spec; each error names the field's path.

    A field that is absent or null takes its default; without a default it is
    required.
    """

    def __init__(self, raw: Any, path: str) -> None:
        if not isinstance(raw, Mapping):
            raise InvalidSpecError(path, f"must be an object, not {_type_name(raw)}")
        self._raw: Mapping[str, Any] = raw
        self._path = path

    def object(self, field: str) -> Fields:
        return Fields(self._value(field, required=True), self._child(field))

    def optional_object(self, field: str) -> Fields | None:
        raw = self._value(field, required=False)
        return None if raw is None else Fields(raw, self._child(field))

    def object_or_empty(self, field: str) -> Fields:
        return self.optional_object(field) or Fields({}, self._child(field))

    def string(self, field: str, default: str | None = None) -> str:
        raw = self._value(field, required=default is None)
        if raw is None:
            return str(default)
        return _nonempty_string(raw, self._child(field))

    def optional_string(self, field: str) -> str | None:
        raw = self._value(field, required=False)
        return None if raw is None else _nonempty_string(raw, self._child(field))

    def objects(self, field: str) -> tuple[Fields, ...]:
        """A list of objects (absent: none), each read with its index in the path."""
        return tuple(Fields(item, path) for item, path in self._items(field))

    def strings(self, field: str) -> tuple[str, ...]:
        return tuple(_nonempty_string(item, path) for item, path in self._items(field))

    def has(self, field: str) -> bool:
        """Whether the field is set (an empty list or object counts)."""
        return self._raw.get(field) is not None

    def string_map(self, field: str) -> tuple[tuple[str, str], ...]:
        """A map of strings (absent: empty), sorted by key."""
        entries = self.optional_object(field)
        if entries is None:
            return ()
        return tuple(
            (key, _string(value, entries._child(key)))
            for key, value in sorted(entries._raw.items())
        )

    def raw_object(self, field: str) -> dict[str, Any] | None:
        """An object passed through to Kubernetes as it is (the API server checks it)."""
        entries = self.optional_object(field)
        return None if entries is None else dict(entries._raw)

    def raw_objects(self, field: str) -> tuple[dict[str, Any], ...]:
        """A list of objects passed through to Kubernetes as they are."""
        return tuple(dict(entry._raw) for entry in self.objects(field))

    def _items(self, field: str) -> list[tuple[Any, str]]:
        """A list's items with their paths (absent: none)."""
        raw = self._value(field, required=False)
        if raw is None:
            return []
        path = self._child(field)
        if not isinstance(raw, list):
            raise InvalidSpecError(path, f"must be a list, not {_type_name(raw)}")
        return [(item, f"{path}[{index}]") for index, item in enumerate(raw)]

    def integer(self, field: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        raw = self._value(field, required=False)
        if raw is None:
            return default
        # bool is an int in Python, but `replicas: true` is a mistake, not 1.
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InvalidSpecError(self._child(field), f"must be an integer, not {_type_name(raw)}")
        if raw < minimum or (maximum is not None and raw > maximum):
            bounds = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise InvalidSpecError(self._child(field), f"must be {bounds}, not {raw}")
        return raw

    def boolean(self, field: str, default: bool) -> bool:
        raw = self._value(field, required=False)
        if raw is None:
            return default
        if not isinstance(raw, bool):
            raise InvalidSpecError(self._child(field), f"must be true or false, not {raw!r}")
        return raw

    def enum(self, field: str, default: _EnumT) -> _EnumT:
        kind = type(default)
        value = self.string(field, default.value)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise InvalidSpecError(
                self._child(field), f"must be one of {allowed}, not {value!r}"
            ) from None

    def _value(self, field: str, *, required: bool) -> Any:
        raw = self._raw.get(field)
        if raw is None and required:
            raise InvalidSpecError(self._child(field), "is required")
        return raw

    def _child(self, field: str) -> str:
        return f"{self._path}.{field}"


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _string(raw: Any, path: str) -> str:
    if not isinstance(raw, str):
        raise InvalidSpecError(path, f"must be a string, not {_type_name(raw)}")
    return raw


def _nonempty_string(raw: Any, path: str) -> str:
    text = _string(raw, path)
    if not text:
        raise InvalidSpecError(path, "may not be empty")
    return text

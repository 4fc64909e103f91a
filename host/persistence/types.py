"""Column types that differ between SQLite and Postgres."""

from __future__ import annotations

import struct
from typing import Any

from sqlalchemy import JSON, LargeBinary
from sqlalchemy.types import TypeDecorator, UserDefinedType


class _PgVector(UserDefinedType):
    """pgvector's ``vector`` without a fixed dimension (indexes use per-dimension expressions)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "vector"


class Embedding(TypeDecorator):
    """A float vector: pgvector ``vector`` on Postgres, a float32 blob (sqlite-vec's format) on SQLite."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PgVector())
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        floats = [float(x) for x in value]
        if dialect.name == "postgresql":
            return "[" + ",".join(repr(x) for x in floats) + "]"
        return struct.pack(f"{len(floats)}f", *floats)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            text = value if isinstance(value, str) else str(value)
            text = text.strip("[]")
            return [float(x) for x in text.split(",")] if text else []
        raw = bytes(value)
        return list(struct.unpack(f"{len(raw) // 4}f", raw))


class EncodedJSON(str):
    """A value already encoded as JSON text: a ``JSONType`` column stores it as it is (no second encoding)."""

    __slots__ = ()


class JSONType(TypeDecorator):
    """JSON on SQLite, JSONB on Postgres. Python's None is stored as SQL NULL (not the JSON ``null``), so
    that ``IS NULL`` and text searches over a column see an absent value as absent. An ``EncodedJSON`` is
    bound as the text it is; it reads back as the value it encodes."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect):
        encode = super().bind_processor(dialect)
        if encode is None:  # (no dialect here leaves JSON unencoded; kept for the type's contract)
            return None

        def process(value: Any) -> Any:
            return str(value) if type(value) is EncodedJSON else encode(value)

        return process

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB  # loaded with the dialect: no cost on SQLite

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(JSON(none_as_null=True))

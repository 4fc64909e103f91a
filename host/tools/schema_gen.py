"""JSON schemas for custom tools, generated from source without running it.

The source is parsed (``ast``), never executed in the server: the tool function's type hints become JSON
types and its Google-style docstring gives the descriptions. A missing docstring or an undocumented
parameter is a clear error (Letta answers 500 there).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

import docstring_parser

HIDDEN_PARAMS = {"self", "agent_state"}

_SIMPLE = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "dict": {"type": "object"},
    "Dict": {"type": "object"},
    "list": {"type": "array"},
    "List": {"type": "array"},
    "Any": {},
    "object": {},
}


class SchemaError(ValueError):
    """The tool source cannot be turned into a schema; the message says what to fix."""


@dataclass(frozen=True)
class ParsedTool:
    name: str
    description: str
    json_schema: dict[str, Any]
    takes_agent_state: bool
    is_async: bool


def _annotation_schema(node: ast.expr | None, where: str) -> dict[str, Any]:
    if node is None:
        raise SchemaError(f"{where} has no type hint; annotate it (e.g. `: str`)")
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            raise SchemaError(f"{where} has a type hint that is not a Python expression: {node.value!r}") from None
    if isinstance(node, ast.Constant) and node.value is None:
        return {"type": "null"}
    if isinstance(node, ast.Name) or isinstance(node, ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name in _SIMPLE:
            return dict(_SIMPLE[name])
        return {"type": "object", "description": f"a {name}"}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _annotation_schema(node.left, where), _annotation_schema(node.right, where)
        return _union([left, right])
    if isinstance(node, ast.Subscript):
        head = node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head in ("list", "List", "Sequence", "set", "Set", "tuple", "Tuple"):
            return {"type": "array", "items": _annotation_schema(args[0], where)}
        if head in ("dict", "Dict", "Mapping"):
            return {"type": "object"}
        if head == "Optional":
            return _union([_annotation_schema(args[0], where), {"type": "null"}])
        if head == "Union":
            return _union([_annotation_schema(a, where) for a in args])
        if head == "Literal":
            values = [a.value for a in args if isinstance(a, ast.Constant)]
            kinds = {type(v) for v in values}
            out: dict[str, Any] = {"enum": values}
            if kinds == {str}:
                out["type"] = "string"
            elif kinds <= {int}:
                out["type"] = "integer"
            return out
        if head == "Annotated":
            return _annotation_schema(args[0], where)
    raise SchemaError(f"{where} has a type hint that cannot be turned into JSON schema: {ast.unparse(node)}")


def _union(options: list[dict[str, Any]]) -> dict[str, Any]:
    non_null = [o for o in options if o.get("type") != "null"]
    if len(non_null) == 1:
        return non_null[0]
    return {"anyOf": options}


def _pick_function(tree: ast.Module, name: str | None) -> ast.FunctionDef | ast.AsyncFunctionDef:
    funcs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if name:
        for f in funcs:
            if f.name == name:
                return f
        raise SchemaError(f"no top-level function named {name!r} in the source")
    public = [f for f in funcs if not f.name.startswith("_")]
    if not public:
        raise SchemaError("the source defines no top-level function; define the tool as `def name(...):`")
    return public[-1]


def parse_tool_source(
    source_code: str, *, name: str | None = None, args_json_schema: dict[str, Any] | None = None
) -> ParsedTool:
    try:
        tree = ast.parse(source_code)
    except SyntaxError as exc:
        raise SchemaError(f"the source does not parse: {exc.msg} (line {exc.lineno})") from exc
    except ValueError as exc:  # a NUL byte
        raise SchemaError(f"the source does not parse: {exc}") from exc
    except (RecursionError, MemoryError) as exc:  # the parser's own limits (very deep nesting)
        raise SchemaError("the source does not parse: it is nested too deeply for Python's parser") from exc
    func = _pick_function(tree, name)
    doc = ast.get_docstring(func)
    if not doc or not doc.strip():
        raise SchemaError(
            f"tool function {func.name!r} has no docstring; add one that describes the tool and each parameter "
            "(Google style: an 'Args:' section)"
        )
    parsed_doc = docstring_parser.parse(doc)
    description = " ".join(
        part for part in (parsed_doc.short_description, parsed_doc.long_description) if part
    ).strip() or doc.strip().splitlines()[0]
    param_docs = {p.arg_name: (p.description or "").strip() for p in parsed_doc.params}

    all_args = list(func.args.posonlyargs) + list(func.args.args) + list(func.args.kwonlyargs)
    takes_agent_state = any(a.arg == "agent_state" for a in all_args)
    if args_json_schema is not None:
        parameters = _parameters_from_model_schema(args_json_schema)
    else:
        defaults: dict[str, ast.expr] = {}
        positional = list(func.args.posonlyargs) + list(func.args.args)
        for arg, default in zip(positional[len(positional) - len(func.args.defaults):], func.args.defaults, strict=False):
            defaults[arg.arg] = default
        for arg, kw_default in zip(func.args.kwonlyargs, func.args.kw_defaults, strict=False):
            if kw_default is not None:
                defaults[arg.arg] = kw_default
        properties: dict[str, Any] = {}
        required: list[str] = []
        for arg in all_args:
            if arg.arg in HIDDEN_PARAMS:
                continue
            where = f"parameter {arg.arg!r} of {func.name!r}"
            schema = _annotation_schema(arg.annotation, where)
            if not param_docs.get(arg.arg):
                raise SchemaError(
                    f"{where} is not documented; describe it in the docstring's 'Args:' section "
                    f"(e.g. '{arg.arg} (type): what it is')"
                )
            schema["description"] = param_docs[arg.arg]
            properties[arg.arg] = schema
            if arg.arg not in defaults:
                required.append(arg.arg)
        parameters = {"type": "object", "properties": properties, "required": required}
    return ParsedTool(
        name=func.name,
        description=description,
        json_schema={"name": func.name, "description": description, "parameters": parameters},
        takes_agent_state=takes_agent_state,
        is_async=isinstance(func, ast.AsyncFunctionDef),
    )


def _parameters_from_model_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Turn a pydantic model's JSON schema into function parameters, inlining ``$defs`` references."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        """Inline references; drop schema metadata (``title``, ``$defs``) but never a property named so."""
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs.get(ref.split("/")[-1], {}))
            out = {}
            for key, value in node.items():
                if key in ("$defs", "title"):
                    continue
                out[key] = resolve_properties(value) if key == "properties" else resolve(value)
            return out
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    def resolve_properties(props: Any) -> Any:
        if not isinstance(props, dict):
            return resolve(props)
        return {name: resolve(sub) for name, sub in props.items()}

    if not isinstance(schema.get("properties"), dict):
        raise SchemaError("args_json_schema must be a JSON object schema with 'properties'")
    return {"type": "object", "properties": resolve_properties(schema["properties"]),
            "required": list(schema.get("required", []))}

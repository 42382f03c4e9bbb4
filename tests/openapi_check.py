"""A small OpenAPI 3.0 / Swagger 2.0 response validator, enough to hold the sandboxes to
Atlassian's specs.

Why not a library: jsonschema does not speak OpenAPI 3.0's ``nullable`` and the project keeps
its test dependencies few. This resolves ``$ref`` (``#/components/schemas/`` in OpenAPI 3,
``#/definitions/`` in Swagger 2.0), merges ``allOf``, accepts a value matching any
``oneOf``/``anyOf`` branch, and checks JSON types (with ``nullable``, Swagger's ``x-nullable``,
or ``null`` among the ``enum`` values), ``enum``, ``required``, ``items`` and ``properties``. A
key the schema does not declare is an error when the schema declares properties and does not
allow additional ones: that is what keeps a simulator from drifting into shapes only our own
client accepts.

``allowed_extra`` names keys a schema may carry beyond its declaration, and ``allowed_null``
keys that may be null although the schema says otherwise, per schema name, for the few places
where real answers differ from Atlassian's spec; each use is justified where the tests pass it.
An inline schema (a property's own object, not a ``$ref``) is named after its parent and the
property: ``error.error``, ``pullrequest.merge_commit``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

Schema = dict[str, Any]
REF_PREFIXES = ("#/components/schemas/", "#/definitions/")
REF_PREFIX = REF_PREFIXES[0]
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


@cache
def load_spec(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = json.load(handle)
    return spec


class SpecValidator:
    def __init__(
        self,
        spec: Mapping[str, Any],
        allowed_extra: Mapping[str, set[str]] | None = None,
        allowed_null: Mapping[str, set[str]] | None = None,
    ) -> None:
        self.spec = spec
        self.allowed_extra = dict(allowed_extra or {})
        self.allowed_null = dict(allowed_null or {})
        self.swagger2 = "definitions" in spec and "components" not in spec
        self.definitions: dict[str, Schema] = (
            spec["definitions"] if self.swagger2 else spec["components"]["schemas"]
        )
        self.ref_prefix = REF_PREFIXES[1] if self.swagger2 else REF_PREFIXES[0]

    def schema(self, name: str) -> Schema:
        """A named schema (component or definition), as a reference the validator follows."""
        if name not in self.definitions:
            raise KeyError(f"the spec has no schema {name!r}")
        return {"$ref": self.ref_prefix + name}

    def response_schema(self, method: str, path: str, status: int) -> Schema:
        """The JSON schema of an operation's response, e.g. ("get", "/rest/api/3/myself", 200)."""
        operation = self.spec["paths"][path][method.lower()]
        response = operation["responses"][str(status)]
        if self.swagger2:
            swagger_schema: Schema = response["schema"]
            return swagger_schema
        content: dict[str, Any] = response["content"]
        media = "application/json" if "application/json" in content else None
        media = media or next(m for m in content if m.startswith("application/json"))
        schema: Schema = content[media]["schema"]
        return schema

    def validate(
        self, instance: Any, schema: Schema, where: str = "$", context: str | None = None
    ) -> list[str]:
        """Every way ``instance`` breaks ``schema``; empty when it conforms. ``context`` names an
        inline schema (parent.property) for ``allowed_extra`` and ``allowed_null``."""
        schema, name = self._resolve(schema)
        name = name or context
        problems: list[str] = []
        if "allOf" in schema:
            parts = schema["allOf"]
            if name is None and len(parts) == 1 and "$ref" in parts[0]:
                name = self._name(parts[0]["$ref"])  # a readOnly wrapper of one schema
            schema = self._merge_all_of(schema)
        for keyword in ("oneOf", "anyOf"):
            if keyword in schema:
                branch_problems = [self.validate(instance, b, where) for b in schema[keyword]]
                if all(branch_problems):  # no branch fits: report the closest one
                    closest: list[str] = min(branch_problems, key=len)
                    problems += closest
                return problems
        if instance is None:
            nullable = schema.get("nullable") or schema.get("x-nullable")
            if not nullable and None not in schema.get("enum", [0]) and "type" in schema:
                problems.append(f"{where}: null where the schema wants {schema['type']}")
            return problems
        expected = schema.get("type")
        if expected is not None and not _is_type(instance, expected):
            return [f"{where}: {type(instance).__name__} where the schema wants {expected}"]
        if "enum" in schema and instance not in schema["enum"]:
            problems.append(f"{where}: {instance!r} is not one of {schema['enum']}")
        if isinstance(instance, dict):
            problems += self._validate_object(instance, schema, name, where)
        if isinstance(instance, list) and isinstance(schema.get("items"), dict):
            inline = None if name is None else f"{name}[]"
            for index, item in enumerate(instance):
                problems += self.validate(item, schema["items"], f"{where}[{index}]", inline)
        return problems

    def _validate_object(
        self, instance: dict[str, Any], schema: Schema, name: str | None, where: str
    ) -> list[str]:
        problems = [
            f"{where}: required key {key!r} is missing"
            for key in schema.get("required", [])
            if key not in instance
        ]
        properties: dict[str, Schema] = schema.get("properties", {})
        additional = schema.get("additionalProperties")
        extra_ok = self.allowed_extra.get(name or "", set())
        null_ok = self.allowed_null.get(name or "", set())
        for key, value in instance.items():
            if key in properties and value is None and key in null_ok:
                continue
            if key in properties:
                inline = None if name is None else f"{name}.{key}"
                problems += self.validate(value, properties[key], f"{where}.{key}", inline)
            elif isinstance(additional, dict):
                problems += self.validate(value, additional, f"{where}.{key}")
            elif additional is True or key in extra_ok:
                continue
            elif properties:  # declared properties, no additionalProperties: closed
                problems.append(f"{where}: key {key!r} is not declared by {name or 'the schema'}")
        return problems

    def _resolve(self, schema: Schema) -> tuple[Schema, str | None]:
        name = None
        while "$ref" in schema:
            name = self._name(schema["$ref"])
            schema = self.definitions[name]
        return schema, name

    def _name(self, ref: str) -> str:
        if not ref.startswith(self.ref_prefix):
            raise ValueError(f"unsupported $ref {ref}")
        return ref[len(self.ref_prefix) :]

    def _merge_all_of(self, schema: Schema) -> Schema:
        """``allOf`` as one schema: properties and required united, closed if any part is."""
        merged: Schema = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            resolved, _ = self._resolve(part)
            if "allOf" in resolved:
                resolved = self._merge_all_of(resolved)
            for key, value in resolved.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged.setdefault(key, value)
        return merged


def _is_type(instance: Any, expected: str) -> bool:
    if isinstance(instance, bool) and expected in ("integer", "number"):
        return False
    return isinstance(instance, _TYPES.get(expected, (object,)))

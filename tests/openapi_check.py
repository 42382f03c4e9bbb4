"""A small OpenAPI 3.0 response validator, enough to hold the sandboxes to Atlassian's specs.

Why not a library: jsonschema does not speak OpenAPI 3.0's ``nullable`` and the project keeps
its test dependencies few. This resolves ``$ref``, merges ``allOf``, accepts a value matching
any ``oneOf``/``anyOf`` branch, and checks JSON types (with ``nullable``), ``enum``,
``required``, ``items`` and ``properties``. A key the schema does not declare is an error when
the schema declares properties and does not allow additional ones: that is what keeps a
simulator from drifting into shapes only our own client accepts.

``allowed_extra`` names keys a schema may carry beyond its declaration, per schema name, for the
few places where real Jira answers differ from Atlassian's spec; each use is justified where the
tests pass it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

Schema = dict[str, Any]
REF_PREFIX = "#/components/schemas/"
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
        self, spec: Mapping[str, Any], allowed_extra: Mapping[str, set[str]] | None = None
    ) -> None:
        self.spec = spec
        self.allowed_extra = dict(allowed_extra or {})

    def schema(self, name: str) -> Schema:
        """A named component schema, as a reference the validator follows."""
        if name not in self.spec["components"]["schemas"]:
            raise KeyError(f"the spec has no schema {name!r}")
        return {"$ref": REF_PREFIX + name}

    def response_schema(self, method: str, path: str, status: int) -> Schema:
        """The JSON schema of an operation's response, e.g. ("get", "/rest/api/3/myself", 200)."""
        operation = self.spec["paths"][path][method.lower()]
        response = operation["responses"][str(status)]
        schema: Schema = response["content"]["application/json"]["schema"]
        return schema

    def validate(self, instance: Any, schema: Schema, where: str = "$") -> list[str]:
        """Every way ``instance`` breaks ``schema``; empty when it conforms."""
        schema, name = self._resolve(schema)
        problems: list[str] = []
        if "allOf" in schema:
            parts = schema["allOf"]
            if name is None and len(parts) == 1 and "$ref" in parts[0]:
                name = parts[0]["$ref"][len(REF_PREFIX) :]  # a readOnly wrapper of one schema
            schema = self._merge_all_of(schema)
        for keyword in ("oneOf", "anyOf"):
            if keyword in schema:
                branch_problems = [self.validate(instance, b, where) for b in schema[keyword]]
                if all(branch_problems):  # no branch fits: report the closest one
                    closest: list[str] = min(branch_problems, key=len)
                    problems += closest
                return problems
        if instance is None:
            if not schema.get("nullable") and "type" in schema:
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
            for index, item in enumerate(instance):
                problems += self.validate(item, schema["items"], f"{where}[{index}]")
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
        for key, value in instance.items():
            if key in properties:
                problems += self.validate(value, properties[key], f"{where}.{key}")
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
            ref: str = schema["$ref"]
            if not ref.startswith(REF_PREFIX):
                raise ValueError(f"unsupported $ref {ref}")
            name = ref[len(REF_PREFIX) :]
            schema = self.spec["components"]["schemas"][name]
        return schema, name

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

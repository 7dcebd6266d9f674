"""Fields an object's schema does not declare, and what each way of writing it does about them.

- POST, PUT and the patches (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go
  fieldValidation): `fieldValidation=Strict` is a 400, `<Kind> in version "<v>" cannot be handled as
  a <Kind>: strict decoding error: unknown field "spec.x", ...`; `Warn` — the default when the client
  sends nothing — drops the fields and answers with a `Warning: 299 - "unknown field \\"spec.x\\""`
  header each; `Ignore` drops them quietly.
- Server-side apply (staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/structuredmerge.go
  Apply): converting the applied object to its typed form fails whatever fieldValidation says, and
  the plain error becomes a 500 with no reason: `failed to create typed patch object (<ns>/<name>;
  <group>/<version>, Kind=<Kind>): .spec.x: field not declared in schema`. That is an upstream bug
  (kubernetes/kubernetes#122480, #139253): the fake answers exactly so, because that is what a client
  of a real cluster gets.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import jsonschema
import kubernetes_validate.utils as kv
from referencing import Registry, Resource

from .kinds import Kind
from .patching import MERGE_KEYS
from .statuses import ApiError, bad_request

SCHEMA_DIR = "v1.35.0-local-strict"
Path = tuple[str | int, ...]


@functools.lru_cache(maxsize=64)
def _validator(api_version: str, kind: str) -> jsonschema.Validator:
    # kubernetes-validate's file naming: storage.k8s.io/v1 -> storage-v1, v1 -> v1.
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = kv.schema_contents(
        f"kubernetes-json-schema/{SCHEMA_DIR}/{kind.lower()}-{group_version}.json", "1.35"
    )
    definitions = kv.schema_contents(f"kubernetes-json-schema/{SCHEMA_DIR}/_definitions.json", "1.35")
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def find(kind: Kind, obj: dict) -> list[Path]:
    """Paths of the fields the schema does not declare, in document order."""
    found: list[Path] = []
    for error in _validator(kind.api_version, kind.kind).iter_errors(obj):
        for nested in _leaves(error):
            if nested.validator != "additionalProperties" or not isinstance(nested.instance, dict):
                continue
            declared = set((nested.schema.get("properties") or {}).keys())
            base = tuple(nested.absolute_path)
            found += [base + (key,) for key in nested.instance if key not in declared]
    order = {path: i for i, path in enumerate(_walk(obj))}  # as a decoder meets them
    return sorted(set(found), key=lambda p: order.get(p, len(order)))


def _walk(node: Any, prefix: Path = ()) -> list[Path]:
    paths: list[Path] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        paths.append(prefix + (key,))
        paths += _walk(value, prefix + (key,))
    return paths


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    if error.context:
        return [leaf for sub in error.context for leaf in _leaves(sub)]
    return [error]


def drop(obj: dict, paths: list[Path]) -> None:
    """Remove the fields at `paths` (the decoder's Warn/Ignore: they never reach storage)."""
    for path in sorted(paths, key=len, reverse=True):
        node: Any = obj
        for step in path[:-1]:
            node = node[step]
        node.pop(path[-1], None)


def dotted(path: Path) -> str:
    """`spec.template.spec.containers[0].imagePullPolicyy`: how the strict decoder names a field."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def typed(obj: dict, path: Path) -> str:
    """`.spec.template.spec.containers[name="app"].x`: how structured-merge-diff names a field,
    list elements by their merge keys."""
    text, node = "", obj
    parent_field = ""
    for step in path:
        if isinstance(step, int) and isinstance(node, list):
            item = node[step]
            key = MERGE_KEYS.get(parent_field) or ("containerPort" if parent_field == "ports" else None)
            if isinstance(item, dict) and key and key in item:
                text += f"[{key}={json.dumps(item[key])}]"
            else:
                text += f"[{step}]"
            node = item
        else:
            text += f".{step}"
            parent_field = str(step)
            node = node.get(step) if isinstance(node, dict) else None
    return text


def handle(kind: Kind, obj: dict, directive: str, warnings: list[str]) -> None:
    """POST/PUT/patch: refuse (Strict), or drop and warn (Warn), or drop (Ignore) unknown fields."""
    paths = find(kind, obj)
    if not paths:
        return
    named = [f'unknown field "{dotted(p)}"' for p in paths]
    if directive == "Strict":
        raise bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f"strict decoding error: {', '.join(named)}"
        )
    if directive == "Warn":
        warnings.extend(named)
    drop(obj, paths)


def refuse_apply(kind: Kind, namespace: str, name: str, applied: dict) -> None:
    """Server-side apply of undeclared fields: the 500 a real API server answers (see above)."""
    paths = find(kind, applied)
    if not paths:
        return
    problems = [f"{typed(applied, p)}: field not declared in schema" for p in paths]
    said = problems[0] if len(problems) == 1 else "errors:\n  " + "\n  ".join(problems)
    gvk = f"{kind.group}/{kind.version}, Kind={kind.kind}"
    raise ApiError(500, "", f"failed to create typed patch object ({namespace}/{name}; {gvk}): {said}")


def check_directive(directive: str | None) -> str:
    """The fieldValidation query parameter: absent means Warn."""
    if not directive:
        return "Warn"
    if directive not in ("Ignore", "Warn", "Strict"):
        raise bad_request(
            f'fieldValidation: Unsupported value: "{directive}": supported values: "Ignore", "Strict", "Warn"'
        )
    return directive

"""labelSelector and fieldSelector, as list and watch requests carry them, refused as the API server
refuses them.

- A label selector that does not parse is a 400 with labels.Parse's error
  (staging/src/k8s.io/apimachinery/pkg/labels/selector.go: `unable to parse requirement: ...`,
  `found '<token>', expected: ...`); keys and values are checked like labels.
- A field selector may name only the fields the kind's conversion registers
  (pkg/apis/core/v1/conversion.go, pkg/apis/batch/v1/conversion.go): otherwise a 400, `field label
  not supported: <field>` for those kinds, and for kinds without one (runtime.Scheme
  DefaultMetaV1FieldSelectorConversion) `"<field>" is not a known field selector: only
  "metadata.name", "metadata.namespace"`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .statuses import bad_request

_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_SET = re.compile(r"^\s*(\S+)\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQUALITY = re.compile(r"^\s*([^\s!=]+)\s*(==|!=|=)\s*([^\s!=]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*$")
META = ("metadata.name", "metadata.namespace")
_EVENT_FIELDS = tuple(f"involvedObject.{f}" for f in ("kind", "namespace", "name", "uid", "apiVersion"))
FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": META
    + (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    ),
    "Event": META
    + _EVENT_FIELDS
    + (
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "Namespace": ("metadata.name", "status.phase"),
    "Node": ("metadata.name", "spec.unschedulable"),
    "Job": META + ("status.successful",),
}


def _split(selector: str) -> list[str]:
    """Split on commas that are not inside a set's parentheses."""
    parts, depth, current = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [p.strip() for p in parts + [current]]


def label_matcher(selector: str | None) -> Callable[[dict], bool]:
    """A predicate over objects for a labelSelector string (=, ==, !=, in, notin, exists, !exists)."""
    terms = _split(selector or "") if (selector or "").strip() else []
    tests = [_label_test(term, selector or "") for term in terms]
    return lambda obj: all(t(obj.get("metadata", {}).get("labels") or {}) for t in tests)


def _check(key: str, values: list[str]) -> None:
    if not _KEY.match(key) or len(key.split("/")[-1]) > 63:
        raise bad_request(
            f"unable to parse requirement: key: Invalid value: {key!r}: name part must be valid"
        )
    for value in values:
        if len(value) > 63 or not _VALUE.match(value):
            raise bad_request(
                f'unable to parse requirement: values[0][{key}]: Invalid value: "{value}": '
                "must be no more than 63 characters of alphanumerics, '-', '_' or '.'"
            )


def _label_test(term: str, selector: str) -> Callable[[dict], bool]:
    if m := _SET.match(term):
        key, op = m.group(1), m.group(2)
        values = {v.strip() for v in m.group(3).split(",") if v.strip()}
        _check(key, sorted(values))
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQUALITY.match(term):
        key, op, value = m.groups()
        _check(key, [value])
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _EXISTS.match(term):
        negate, key = m.groups()
        _check(key, [])
        return (lambda labels: key not in labels) if negate else (lambda labels: key in labels)
    found = next((t for t in re.findall(r"==|!=|[=(),!]|[^\s=!(),]+", term)[1:]), "")
    raise bad_request(f"unable to parse requirement: found '{found}', expected: ',' or 'end of string'")


def field_value(obj: dict, path: str) -> str:
    node = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return "" if node is None else str(node)


def field_matcher(selector: str | None, kind=None) -> Callable[[dict], bool]:
    """A predicate for a fieldSelector string such as `involvedObject.name=x,status.phase!=Running`;
    with a kind, fields the API server does not index for it are refused."""
    tests = []
    for term in _split(selector or "") if (selector or "").strip() else []:
        negate = "!=" in term
        if "=" not in term:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{term}'")
        path, value = (s.strip() for s in term.replace("!=", "=").replace("==", "=").split("=", 1))
        if kind is not None:
            _supported(kind.kind, path)
        tests.append((path, value, negate))
    return lambda obj: all((field_value(obj, p) == v) != n for p, v, n in tests)


def _supported(kind_name: str, path: str) -> None:
    known = FIELDS.get(kind_name)
    if known is None and path not in META:
        raise bad_request(
            f'"{path}" is not a known field selector: only "metadata.name", "metadata.namespace"'
        )
    if known is not None and path not in known:
        raise bad_request(f"field label not supported: {path}")


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """A LabelSelector object (matchLabels + matchExpressions) against a label map."""
    if not selector:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        ok = {
            "In": labels.get(key) in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True

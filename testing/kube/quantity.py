"""Resource quantities (`500m`, `2Gi`, `1`): parsing, adding, and printing them as the API server does.

After k8s.io/apimachinery/pkg/api/resource/quantity.go: a value keeps the format it was written in
(binary `Ki/Mi/Gi`, decimal SI `k/M/G`, or plain/milli), and prints in the largest unit that keeps
it exact.
"""

from __future__ import annotations

import re
from decimal import Decimal

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("0.001"), "": Decimal(1)}
_DECIMAL |= {"k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12)}
_DECIMAL |= {"P": Decimal(10**15), "E": Decimal(10**18)}
_FORM = re.compile(r"^([+-]?[0-9.]+)([a-zA-Z]*)$")


def parse(text: object) -> Decimal:
    """The quantity's value; 0 for anything unparseable (validation refuses those first)."""
    m = _FORM.match(str(text).strip())
    if not m:
        return Decimal(0)
    number, suffix = Decimal(m.group(1)), m.group(2)
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return Decimal(0)


def is_binary(text: object) -> bool:
    m = _FORM.match(str(text).strip())
    return bool(m and m.group(2) in _BINARY)


def quantity(text: object) -> float:
    """A resource quantity as a float (the scheduler's arithmetic)."""
    return float(parse(text))


def show(value: Decimal, binary: bool) -> str:
    """A value as Quantity.String() prints it: the largest exact unit of its format."""
    if binary and value == value.to_integral_value() and value >= 1024:
        for suffix, size in sorted(_BINARY.items(), key=lambda kv: -kv[1]):
            if value % size == 0:
                return f"{int(value // size)}{suffix}"
    if value == value.to_integral_value():
        return str(int(value))
    millis = value * 1000
    if millis == millis.to_integral_value():
        return f"{int(millis)}m"
    return f"{value.normalize()}"

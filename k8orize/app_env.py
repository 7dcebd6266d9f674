"""The app's environment as it ships: `--env` values, `{port}` resolved, secrets told apart from settings.

Every `--env` reaches the container. A value that looks secret, by its name or by its shape, ships only
in the app's Secret and reaches the container through `secretKeyRef`; the Dockerfile, the report, the
summary and the logs never carry it. Telling them apart errs towards secret: a setting taken for a
secret still reaches the app, a secret taken for a setting would be baked into an image.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from .command import PORT

# Names: a part anywhere in the name (DB_PASSWORD_FILE, GITHUBTOKEN), or its last part (API_KEY, DB_PASS).
_SECRET_ANYWHERE = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "PRIVATE", "APIKEY")
_SECRET_SUFFIX = ("KEY", "PASS", "PWD", "PW", "DSN", "AUTH", "SALT", "SIGNATURE")
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD"})  # the shell's working directories

# Shapes: well-known credential formats, whatever the variable is called.
_SECRET_SHAPES = (
    re.compile(r"^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*$"),  # a JWT
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),  # an AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"^(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}$|^github_pat_\w{20,}$"),  # GitHub tokens
    re.compile(r"^xox[abprs]-[\w-]{10,}$"),  # Slack tokens
    re.compile(r"^(sk|rk|pk)_(live|test)_\w{10,}$|^sk-[\w-]{20,}$"),  # Stripe, OpenAI-style keys
    re.compile(r"^glpat-[\w-]{20,}$|^AIza[\w-]{30,}$"),  # GitLab, Google API keys
)
_SECRET_QUERY = re.compile(r"key|token|secret|signature|sig|password|auth", re.IGNORECASE)
_ENTROPY_MIN_LENGTH = 20
_ENTROPY_BITS_PER_CHAR = 3.5


def _name_looks_secret(name: str) -> bool:
    upper = name.upper()
    if upper in _NOT_SECRET_NAMES:
        return False
    if any(part in upper for part in _SECRET_ANYWHERE):
        return True
    last = re.split(r"[^A-Z0-9]+", upper)[-1]
    return any(last.endswith(suffix) for suffix in _SECRET_SUFFIX)


def _url_carries_secret(url: str) -> bool:
    """Userinfo (`postgresql://app:pw@db/app`), a credential in the query string, or a random-looking
    part of the path (`https://hooks.example.com/services/T0/B0/<token>`)."""
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query)
        userinfo = parts.username is not None or parts.password is not None
    except ValueError:
        return True  # unparsable, yet URL-like: not worth the risk
    pieces = [*parts.path.split("/"), *(value for _, value in query), parts.fragment]
    return (
        userinfo
        or any(_SECRET_QUERY.search(key) for key, _ in query)
        or any(_random_looking(piece) for piece in pieces)
    )


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _random_looking(value: str) -> bool:
    """Long, without spaces, mixing letters and digits, and close to random: a generated key or token."""
    if len(value) < _ENTROPY_MIN_LENGTH or any(c.isspace() for c in value) or value.startswith(("/", ".")):
        return False
    classes = sum(
        (any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value))
    )
    return classes >= 2 and _entropy(value) >= _ENTROPY_BITS_PER_CHAR


def _value_looks_secret(value: str) -> bool:
    if any(shape.search(value) for shape in _SECRET_SHAPES):
        return True
    return _url_carries_secret(value) if "://" in value else _random_looking(value)


def looks_secret(name: str, value: str) -> bool:
    """Whether `name=value` must ship as a Secret rather than as a plain setting."""
    return _name_looks_secret(name) or _value_looks_secret(value)


def with_port(value: str, port: int) -> str:
    """`{port}` replaced by one concrete port (a local run's free port, or the container's port)."""
    return value.replace(PORT, str(port))


@dataclass(frozen=True)
class ShippedEnv:
    """The container's `--env`: plain settings, and secrets (which ship only in the Secret)."""

    plain: dict[str, str] = field(default_factory=dict)
    secret: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(self.secret)

    def image_env(self) -> dict[str, str]:
        """What the image's ENV may set: the plain settings a Dockerfile line can hold (printable)."""
        return {key: value for key, value in self.plain.items() if value.isprintable()}

    def container_env(self) -> dict[str, str]:
        """Every variable with its value, as the running container sees it (for runs that verify it)."""
        return {**self.plain, **self.secret}


def shipped_env(env: Mapping[str, str], port: int) -> ShippedEnv:
    """The request's `--env` as it ships: `{port}` is the container's port, secrets set apart."""
    plain: dict[str, str] = {}
    secret: dict[str, str] = {}
    for name, template in env.items():
        value = with_port(template, port)
        (secret if looks_secret(name, value) else plain)[name] = value
    return ShippedEnv(plain, secret)

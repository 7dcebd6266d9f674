"""Typed settings read from the environment: frozen dataclasses whose fields say their variable.

A section is a frozen dataclass deriving from `Section`, each field a `setting(...)` carrying its
description, constraints and (optionally) the variable names it is read from. Constructing a section
converts and checks every field, so a section that exists is valid; `gather` reads the raw strings
from the environment and a `.env` file, and `markdown_table` documents every setting.
"""

from typed_env.environment import gather, read_dotenv
from typed_env.errors import Problem, SettingsError
from typed_env.fields import setting
from typed_env.secret import SecretStr
from typed_env.section import Section
from typed_env.table import markdown_table

__all__ = [
    "Problem",
    "SecretStr",
    "Section",
    "SettingsError",
    "gather",
    "markdown_table",
    "read_dotenv",
    "setting",
]

"""Secrets the run knows, kept out of everything it persists.

The secrets are the values of environment variables named like credentials (``*KEY*``, ``*TOKEN*``,
``*SECRET*``, ``*PASSWORD*``, ``*CREDENTIAL*``) and every value in the project's ``.env``, 8 characters or
longer. :func:`redact` replaces them, and anything shaped like a provider key, by ``[REDACTED]``;
:func:`scrub` also withholds a whole text in which a secret survives in a split form (its characters with
spaces, line breaks or punctuation between them, as a model that quotes a key across two parts of a
message writes it): such a text is never persisted. The judges' answers and errors are scrubbed before
they are cached; every CSV the package writes has the known secrets redacted (:func:`harmstudy.files.csv_text`).

The lowest layer of the package (it imports nothing of it): the project root is found as
:mod:`harmstudy.paths` finds it.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

REDACTED = "[REDACTED]"
WITHHELD = "[withheld: the text held a secret the run knows, in a split form]"
_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
MIN_LENGTH = 8

# Things that look like credentials inside provider error texts. A pattern's group "keep" (a label such as
# "api_key=") stays; the rest of the match becomes [REDACTED].
PATTERNS = [
    re.compile(r"(?i)(?P<keep>(?:api[_-]?key|token|secret|password|authorization)[\"']?\s*[:=]\s*[\"']?)"
               r"(?:bearer\s+)?[^\s'\",}]+"),
    re.compile(r"(?i)(?P<keep>bearer\s+)[^\s'\",}]+"),
    re.compile(r"\b(?:sk|pk|rk|ak)-[A-Za-z0-9_\-]{8,}"),                  # OpenAI / Anthropic style keys
    re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"),                            # Google API keys
    re.compile(r"\b(?:gsk|hf|xai|ghp|github_pat)_[A-Za-z0-9_]{8,}"),     # Groq, Hugging Face, xAI, GitHub
]


def env_file() -> Path:
    root = Path(os.environ.get("HARMSTUDY_ROOT", Path(__file__).resolve().parent.parent))
    return root / ".env"


@lru_cache(maxsize=8)
def _env_file_values(path: str, mtime: float) -> tuple[str, ...]:
    from dotenv import dotenv_values

    return tuple(v for v in dotenv_values(path).values() if v)


def known() -> list[str]:
    """The secrets this process knows, longest first (so a secret that holds another is replaced whole)."""
    values = {v for k, v in os.environ.items() if v and _NAME.search(k)}
    path = env_file()
    if path.is_file():
        values |= set(_env_file_values(str(path), path.stat().st_mtime))
    return sorted((v for v in values if len(v) >= MIN_LENGTH), key=len, reverse=True)


def redact_known(text: str) -> str:
    """``text`` with every known secret replaced by ``[REDACTED]`` (patterns left alone: data stays as it is)."""
    if not text:
        return text
    for value in known():
        text = text.replace(value, REDACTED)
    return text


def redact(text: str) -> str:
    """``text`` with the known secrets and anything shaped like a credential replaced by ``[REDACTED]``."""
    if not text:
        return text
    text = redact_known(text)
    for pattern in PATTERNS:
        text = pattern.sub(lambda m: (m.groupdict().get("keep") or "") + REDACTED, text)
    return text.replace(REDACTED + REDACTED, REDACTED)


def _squashed(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def holds_split_secret(text: str) -> bool:
    """Whether a known secret's letters and digits, in order, stand in ``text`` with only spaces,
    punctuation or line breaks between them (what :func:`redact` cannot find)."""
    if not text:
        return False
    squashed = _squashed(text)
    return any(len(s) >= MIN_LENGTH and s in squashed for s in map(_squashed, known()))


def scrub(text: str | None) -> str | None:
    """What may be persisted of ``text``: :func:`redact`ed, or :data:`WITHHELD` whole when a secret survives
    in a split form."""
    if not text:
        return text
    text = redact(text)
    return WITHHELD if holds_split_secret(text) else text

"""A labelled set as a user hands it over: the file read safely, and every parameter checked before anything
runs or is written.

One validator serves ``make external`` (:mod:`harmstudy.report.external_set`) and notebook 07, so both say
the same thing about the same file. Each problem is one line, :class:`SetInputError`: the file, the
physical line number where it is one line, the column, what is wrong, and the parameter that fixes it
(``REQUEST=``, ``ENCODING=``, ``SEP=``, …, as ``make external`` calls them).

* **Encoding**: UTF-8 (with or without a BOM) unless ``ENCODING=`` names another; a file that is not UTF-8
  is refused with the encoding charset-normalizer detects.
* **Delimiter**: ``,`` for ``.csv`` and tab for ``.tsv`` unless ``SEP=`` names another; a header that reads
  as one column but splits on another delimiter (csv.Sniffer) is refused, naming it.
* **Line numbers** are the file's own (1 = its first line, comment lines included): a quoted line break
  inside a cell does not shift them (Python's ``csv`` reader counts the lines it read).
* **Duplicates** (the same request and response twice) are counted and, by ``DEDUPE=``, kept (``keep``, the
  default, with a warning) or dropped (``drop``: the first of each is kept).
* **A prompt of the user's** (``PROMPT=``) holds only the placeholders :data:`PROMPT_SLOTS`, each once at
  least; :func:`fill_prompt` fills them in one pass, so a request that contains the text ``{response}`` is
  never filled again.
"""
from __future__ import annotations

import shlex

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


class SetInputError(ValueError):
    """A labelled set or a parameter that cannot be used; the message is one line and says how to fix it."""


#: What ``make external`` calls each parameter (errors name the one that fixes them).
PARAMETER = {"request": "REQUEST", "response": "RESPONSE", "human": "HUMAN", "category": "CATEGORY",
             "verdicts": "VERDICTS", "scale": "SCALE", "encoding": "ENCODING", "sep": "SEP", "dedupe": "DEDUPE",
             "prompt": "PROMPT", "set": "SET"}
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
DEDUPE_CHOICES = ("keep", "drop")
#: The placeholders a user's prompt may hold, each filled with the row's raw text.
PROMPT_SLOTS = ("request", "response")
#: Delimiters csv.Sniffer is asked to tell apart.
DELIMITERS = ",;\t|"


def slug(text: str, fallback: str = "set") -> str:
    """Letters, digits, ``.``, ``_`` and ``-`` of ``text`` (others become ``-``), no leading dot or dash: a
    set's name in its files and folders."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return out[:60] or fallback


# ---------------------------------------------------------------------------------------------- the file
def decode(data: bytes, name: str, encoding: str | None = None) -> str:
    """The file's text: ``encoding`` if given, else UTF-8 (a BOM dropped); refused, naming the detected
    encoding, when it is not UTF-8."""
    if encoding:
        try:
            return data.decode(encoding)
        except LookupError:
            raise SetInputError(f"{name}: ENCODING={encoding} is not an encoding Python knows "
                                f"(e.g. utf-8, latin-1, cp1252, utf-16)") from None
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            raise SetInputError(f"{name}, line {line}: not {encoding} (byte {data[exc.start]:#04x}); "
                                f"{_detected(data)}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SetInputError(f"{name}, line {line}: not UTF-8 (byte {data[exc.start]:#04x}); {_detected(data)}") from None


def _detected(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return "its encoding could not be detected: save it as UTF-8, or pass ENCODING=<encoding>"
    return f"it reads as {best.encoding}: pass ENCODING={best.encoding}, or save it as UTF-8"


def _header_fields(text: str, sep: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    return first


def check_delimiter(text: str, name: str, sep: str, chosen: bool) -> None:
    """Refuse a file whose header is one column under ``sep`` but several under another delimiter."""
    header = _header_fields(text, sep)
    if len(header) > 1 or chosen:
        return
    sample = "".join(text.splitlines(keepends=True)[:20])
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS.replace(sep, "")).delimiter
    except csv.Error:
        return
    if len(_header_fields(text, found)) > 1:
        shown = {"\t": "tab", ";": "';'", "|": "'|'", ",": "','"}[found]
        raise SetInputError(f"{name}, line 1: the header is one column with the delimiter {sep!r}, but it splits "
                            f"on {shown}: pass SEP={shown if found != chr(9) else 'tab'}")


def check_header(header: list[str], name: str, line: int = 1) -> None:
    """Refuse a header that names a column twice."""
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise SetInputError(f"{name}, line {line}: the column name(s) {repeated} stand twice in the header; "
                            f"rename one")


def read_rows(text: str, name: str, sep: str, first_line: int = 1) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """A delimited text as text columns, and where each row stands: ``(row, line)``, its record number
    counted as the study's keys count it (header line + 1 + its index: stable ids of the committed runs) and
    the physical line it starts on in the file (``first_line`` is the header's), which messages name. Blank
    lines are skipped; a row with another number of fields than the header is refused."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        header = next(reader)
    except StopIteration:
        raise SetInputError(f"{name}: no header line") from None
    except csv.Error as exc:
        raise SetInputError(f"{name}, line {first_line}: {exc}") from None
    header = [h.strip() for h in header]
    check_header(header, name, first_line)
    rows, lines, end = [], [], reader.line_num
    while True:
        start = end + 1                             # the physical line this record starts on
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SetInputError(f"{name}, line {first_line + start - 1}: {exc} (a quote left open?)") from None
        end = reader.line_num
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if len(record) != len(header):
            raise SetInputError(f"{name}, line {first_line + start - 1}: {len(record)} fields where the header has "
                                f"{len(header)}; quote cells that hold the delimiter {sep!r} (or pass SEP=)")
        lines.append((first_line + 1 + len(rows), first_line + start - 1))
        rows.append(record)
    return pd.DataFrame(rows, columns=header, dtype=str), lines


def read_table(source: str | Path, *, encoding: str | None = None, sep: str | None = None
               ) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """A set's file as text columns and each row's ``(row, line)`` (:func:`read_rows`; CSV / TSV: ``#``
    comment lines before the header counted; JSONL: the line for both; JSON / Parquet: the record, from 1)."""
    path = Path(source)
    name = path.name
    suffix = path.suffix.lower()
    if not path.is_file():
        raise SetInputError(f"{source}: no such file (SET= is a CSV, TSV, JSONL or Parquet file)")
    if suffix == ".parquet":
        try:
            frame = pd.read_parquet(path).astype(str)
        except Exception as exc:
            raise SetInputError(f"{name}: not a Parquet file ({type(exc).__name__}: {exc})") from None
        return frame, [(i, i) for i in range(1, len(frame) + 1)]
    data = path.read_bytes()
    if not data.strip():
        raise SetInputError(f"{name}: the file is empty")
    text = decode(data, name, encoding)
    if suffix in (".jsonl", ".json"):
        try:
            frame = pd.read_json(io.StringIO(text), lines=suffix == ".jsonl", dtype=False)
        except ValueError as exc:
            raise SetInputError(f"{name}: not {'JSON Lines' if suffix == '.jsonl' else 'JSON'} ({exc})") from None
        lines = ([i + 1 for i, line in enumerate(text.splitlines()) if line.strip()] if suffix == ".jsonl"
                 else list(range(1, len(frame) + 1)))
        return frame.astype(str), [(n, n) for n in lines[:len(frame)]]
    if suffix not in TABLE_SUFFIXES:
        raise SetInputError(f"{name}: SET= must be a .csv, .tsv, .jsonl, .json or .parquet file, not {suffix or 'no suffix'}")
    chosen = sep is not None
    sep = {"tab": "\t", "\\t": "\t"}.get(sep, sep) if chosen else ("\t" if suffix == ".tsv" else ",")
    if len(sep) != 1:
        raise SetInputError(f"{name}: SEP={sep!r} is not one character (e.g. SEP=';' or SEP=tab)")
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and lines[skipped].lstrip().startswith("#"):
        skipped += 1
    body = "".join(lines[skipped:])
    if not body.strip():
        raise SetInputError(f"{name}: no header line (only comment lines)")
    check_delimiter(body, name, sep, chosen)
    return read_rows(body, name, sep, first_line=skipped + 1)


def frame_rows(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """A DataFrame handed over in Python (:func:`harmstudy.score_set`) as :func:`read_table` gives a file:
    text columns (an empty or missing cell as ``""``, as a CSV reads it), and each row's ``(row, line)`` as
    in the CSV the frame would be saved as (its header line 1, its first row line 2), so its keys and the
    lines messages name are the same as for that file."""
    if not isinstance(frame, pd.DataFrame):
        raise SetInputError(f"{name}: a labelled set is a pandas DataFrame or a file's path, not {type(frame).__name__}")
    header = [str(c).strip() for c in frame.columns]
    check_header(header, name)
    if not len(frame):
        raise SetInputError(f"{name}: the frame has no row")
    def cell(v) -> str:
        if isinstance(v, str):
            return v
        return "" if pd.api.types.is_scalar(v) and pd.isna(v) else str(v)

    text = pd.DataFrame({h: [cell(v) for v in frame.iloc[:, i]] for i, h in enumerate(header)}, dtype=str)
    return text, [(i + 2, i + 2) for i in range(len(text))]


# ------------------------------------------------------------------------------------- the parameters
def parse_scale(text) -> str | tuple[float, ...]:
    """``SCALE``: ``binary`` (any case), or two or more numeric levels (``"1 2 3 4 5"``, ``[0, 0.5, 1]``)."""
    if isinstance(text, (list, tuple)):
        parts = [str(x) for x in text]
    else:
        if str(text).strip().lower() == "binary":
            return "binary"
        parts = re.split(r"[\s,;\[\]]+", str(text).strip())
    parts = [p for p in parts if p]
    hint = 'pass SCALE=binary (labels 1/0, yes/no, true/false) or the Likert levels, e.g. SCALE="1 2 3 4 5"'
    if not parts:
        raise SetInputError(f"SCALE is empty: {hint}")
    try:
        levels = tuple(float(p) for p in parts)
    except ValueError:
        raise SetInputError(f"SCALE={' '.join(parts)}: not 'binary' nor numbers: {hint}") from None
    if len(set(levels)) < 2:
        raise SetInputError(f"SCALE={' '.join(parts)}: a Likert scale has two levels or more: {hint}")
    return tuple(sorted(set(levels)))


def prompt_placeholders(template: str) -> list[str]:
    """The ``{name}`` placeholders of a prompt, in order of first use (``{{`` and ``}}`` are literal braces)."""
    names = []
    for m in re.finditer(r"\{\{|\}\}|\{([^{}]*)\}", template):
        if m.group(1) is not None and m.group(1) not in names:
            names.append(m.group(1))
    return names


def check_prompt(template: str, source: str = "PROMPT") -> str:
    """A user's binary prompt: it holds ``{request}`` and ``{response}`` and no other placeholder."""
    found = prompt_placeholders(template)
    unknown = [f"{{{n}}}" for n in found if n not in PROMPT_SLOTS]
    missing = [f"{{{n}}}" for n in PROMPT_SLOTS if n not in found]
    known = " and ".join(f"{{{n}}}" for n in PROMPT_SLOTS)
    if unknown:
        raise SetInputError(f"{source}: unknown placeholder(s) {', '.join(unknown)}; a prompt may hold only {known} "
                            f"(write {{{{ and }}}} for literal braces)")
    if missing:
        raise SetInputError(f"{source}: lacks {' and '.join(missing)}; a prompt holds {known}, filled with each "
                            f"row's texts, and asks for Yes or No")
    return template


def fill_prompt(template: str, **values: str) -> str:
    """``template`` with each placeholder replaced by its value in one pass (a value that holds ``{response}``
    is not filled again); ``{{`` and ``}}`` become single braces."""
    def one(m: re.Match) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        name = m.group(1)
        return str(values.get(name) or "") if name in values else m.group(0)

    return re.sub(r"\{\{|\}\}|\{([^{}]*)\}", one, template)


# ------------------------------------------------------------------------------------------ the check
@dataclass
class SetSpec:
    """A labelled set and how to read it: the parameters of ``make external`` (and notebook 07)."""

    path: str
    request: str
    response: str
    human: list
    scale: object = "binary"
    category: str = ""
    verdicts: list = field(default_factory=list)
    encoding: str = ""
    sep: str = ""
    dedupe: str = ""
    prompt: str = ""


@dataclass
class CheckedSet:
    """What :func:`check_set` read: the rows as text (duplicates dropped if asked), each row's ``(row, line)``,
    the scale, the prompt's text (or None), and warnings to show the user."""

    frame: pd.DataFrame
    lines: list
    scale: object
    prompt: str | None
    warnings: list = field(default_factory=list)
    duplicates: int = 0


def check_set(spec: SetSpec, frame: pd.DataFrame | None = None) -> CheckedSet:
    """Every check that needs no model: the file, the columns named, the scale, duplicates, the prompt.
    Raises :class:`SetInputError` (one line) on the first problem; writes nothing. ``frame``: the rows as a
    DataFrame instead of the file at ``spec.path`` (then only named by it; :func:`frame_rows`), checked the
    same way."""
    name = Path(spec.path).name
    scale = parse_scale(spec.scale)
    if spec.dedupe and spec.dedupe not in DEDUPE_CHOICES:
        raise SetInputError(f"DEDUPE={spec.dedupe}: choose DEDUPE=keep (count every row) or DEDUPE=drop "
                            f"(the first of each repeated request and response)")
    human = [h for h in (spec.human or []) if str(h).strip()]
    if not human:
        raise SetInputError('name at least one human label column: HUMAN="<column> ..."')
    prompt = None
    if spec.prompt:
        prompt_file = Path(spec.prompt)
        if not prompt_file.is_file():
            raise SetInputError(f"PROMPT={spec.prompt}: no such file")
        prompt = check_prompt(decode(prompt_file.read_bytes(), f"PROMPT={prompt_file.name}"), f"PROMPT={prompt_file.name}")
        if scale != "binary":
            raise SetInputError("PROMPT= is a binary (Yes / No) prompt: use it with SCALE=binary")
    frame, lines = (read_table(spec.path, encoding=spec.encoding or None, sep=spec.sep or None) if frame is None
                    else frame_rows(frame, name))
    columns = list(frame.columns)
    wanted = [("request", spec.request), ("response", spec.response)] + [("human", h) for h in human] \
        + [("verdicts", v) for v in spec.verdicts or []] + ([("category", spec.category)] if spec.category else [])
    for what, column in wanted:
        if not column:
            raise SetInputError(f"{name}: name the {what} column: {PARAMETER[what]}=<column>; columns are {columns}")
        if column not in columns:
            raise SetInputError(f"{name}, line 1: no column {column!r} ({PARAMETER[what]}=); columns are {columns}")
    warnings = []
    repeated = frame.duplicated(subset=[spec.request, spec.response], keep="first").to_numpy()
    duplicates = int(repeated.sum())
    if duplicates:
        first = [line for (_, line), r in zip(lines, repeated) if r][:5]
        if spec.dedupe == "drop":
            frame = frame[~repeated].reset_index(drop=True)
            lines = [where for where, r in zip(lines, repeated) if not r]
            warnings.append(f"{name}: {duplicates} rows repeat an earlier row's request and response (lines "
                            f"{', '.join(map(str, first))}{', …' if duplicates > 5 else ''}); dropped (DEDUPE=drop)")
        elif spec.dedupe != "keep":
            warnings.append(f"{name}: {duplicates} rows repeat an earlier row's request and response (lines "
                            f"{', '.join(map(str, first))}{', …' if duplicates > 5 else ''}); each counts as a row. "
                            f"DEDUPE=drop keeps the first of each, DEDUPE=keep silences this")
    return CheckedSet(frame=frame, lines=lines, scale=scale, prompt=prompt, warnings=warnings, duplicates=duplicates)


def words(text: str) -> list[str]:
    """A list parameter (``HUMAN="a b"``): split as a shell would split it, so ``HUMAN="'rater a' b"`` names a
    column with a space; nothing is run."""
    try:
        return shlex.split(text or "")
    except ValueError as exc:
        raise SetInputError(f"{text!r}: {exc} (a quote left open?)") from None

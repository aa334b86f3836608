"""Reading an inventory CSV: the file, its header, its cells — and the report a dry run gives back.

The rules a person preparing the file needs are in docs/inventory-import.md: the header row names
the columns (any order, case and spaces ignored), the header is row 1, an empty cell takes the
column's default, a column left out of the file leaves existing values as they are.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.core.errors import FieldError, PayloadTooLarge, ValidationFailed
from services.core.inventory.schemas import ImportReport, ImportRowError

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5_000
LIST_SEPARATOR = ";"
TRUE = {"true", "yes", "y", "1", "x"}
FALSE = {"false", "no", "n", "0"}


def text(max_length: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if len(raw) > max_length:
            raise ValueError(f"longer than {max_length} characters")
        return raw
    return parse


def integer(lo: int, hi: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.replace(",", "").replace("_", ""))
        except ValueError:
            raise ValueError(f"'{raw[:40]}' is not a whole number") from None
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return value
    return parse


def boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise ValueError(f"'{raw[:40]}' is not yes/no (use true, false, yes, no, 1 or 0)")


def choice(options: type[enum.Enum]) -> Callable[[str], str]:
    values = [o.value for o in options]

    def parse(raw: str) -> str:
        lowered = raw.lower().replace(" ", "_")
        if lowered not in values:
            raise ValueError(f"'{raw[:40]}' is not one of: {', '.join(values)}")
        return lowered
    return parse


def references(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(LIST_SEPARATOR) if part.strip()]


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    default: Any = None
    required: bool = False


@dataclass
class Row:
    number: int
    values: dict[str, Any]  # only the columns present in the file


@dataclass
class Sheet:
    columns: list[str]
    rows: list[Row]
    errors: list[FieldError] = field(default_factory=list)

    def error(self, row: int | None, column: str, message: str) -> None:
        self.errors.append(FieldError(column, message, {"row": row}))

    def has(self, column: str) -> bool:
        return column in self.columns


def _normalise(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"The file is larger than {MAX_BYTES // 1024} KiB; split it into smaller files.")
    try:
        return data.decode("utf-8-sig")  # spreadsheet programs often start UTF-8 files with a BOM
    except UnicodeDecodeError as exc:
        raise ValidationFailed("The file is not UTF-8 text; save it as 'CSV UTF-8' and try again.",
                               errors=[FieldError("body", f"byte {exc.start} is not valid UTF-8", {"row": None})]) from None


def read_sheet(data: bytes, spec: Mapping[str, Column]) -> Sheet:
    """Parse the file and every cell; cell problems are collected, a file we cannot read is a 422 (or 413)."""
    content = _decode(data)
    if "\x00" in content:
        raise ValidationFailed("The file contains NUL characters; it is not a CSV text file.",
                               errors=[FieldError("body", "contains NUL characters", {"row": None})])
    try:
        records = list(csv.reader(io.StringIO(content, newline="")))
    except csv.Error as exc:
        raise ValidationFailed("The file is not valid CSV.", errors=[FieldError("body", str(exc), {"row": None})]) from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise ValidationFailed("The file is empty: the first row must name the columns.",
                               errors=[FieldError("body", "no header row", {"row": 1})])
    if len(records) - 1 > MAX_ROWS:
        raise ValidationFailed(f"The file has {len(records) - 1} rows; at most {MAX_ROWS} can be imported at once.",
                               errors=[FieldError("body", f"more than {MAX_ROWS} rows", {"row": None})])

    header = [_normalise(h) for h in records[0]]
    sheet = Sheet(columns=[h for h in header if h in spec], rows=[])
    seen: set[str] = set()
    for name in header:
        if not name:
            sheet.error(1, "header", "a column has no name")
        elif name not in spec:
            sheet.error(1, name, f"unknown column; expected some of: {', '.join(spec)}")
        elif name in seen:
            sheet.error(1, name, "column appears twice")
        seen.add(name)
    for column in spec.values():
        if column.required and column.name not in seen:
            sheet.error(1, column.name, "required column is missing")
    if sheet.errors:
        return sheet

    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank lines between rows are common in hand-edited files
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            sheet.error(number, "row", f"has {len(record)} cells but the header names {len(header)} columns")
            continue
        values: dict[str, Any] = {}
        for i, name in enumerate(header):
            column = spec[name]
            raw = record[i].strip() if i < len(record) else ""
            if raw == "":
                if column.required:
                    sheet.error(number, name, "required")
                values[name] = column.default
                continue
            try:
                values[name] = column.parse(raw)
            except ValueError as exc:
                sheet.error(number, name, str(exc))
        sheet.rows.append(Row(number, values))
    return sheet


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def report(sheet: Sheet, tally: Tally, dry_run: bool) -> ImportReport:
    errors = sorted(sheet.errors, key=lambda e: ((e.extra or {}).get("row") or 0, e.field))
    return ImportReport(dry_run=dry_run, created=tally.created, updated=tally.updated, unchanged=tally.unchanged,
                        errors=[ImportRowError(row=(e.extra or {}).get("row"), field=e.field, message=e.message) for e in errors])


def refuse(sheet: Sheet) -> ValidationFailed:
    """A real import with any row error writes nothing: the whole file is refused with every error."""
    rows = {(e.extra or {}).get("row") for e in sheet.errors}
    errors = sorted(sheet.errors, key=lambda e: ((e.extra or {}).get("row") or 0, e.field))
    return ValidationFailed(f"{len(sheet.errors)} problem(s) in {len(rows)} row(s); nothing was imported. "
                            "Fix them (a dry run lists them all) and import again.", errors=errors)

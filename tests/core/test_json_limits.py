"""The depth scan counts what a JSON parser descends into: never brackets inside strings, whatever their escapes."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.core.json_limits import MAX_DEPTH, nul_fields, too_deep

# Text rich in what could fool a scan: brackets, quotes, backslashes and their escapes.
tricky_text = st.text(alphabet=st.sampled_from(list('[]{}"\\ab,:\u00e9\u0000\n')), max_size=8)
values = st.recursive(st.none() | st.booleans() | st.integers() | tricky_text,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
                      max_leaves=40)


def depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


@settings(max_examples=500, deadline=None)
@given(value=values, limit=st.integers(0, 6), ascii_only=st.booleans(), indent=st.sampled_from([None, 1]), pad=st.booleans())
def test_the_scan_agrees_with_the_parsed_depth(value, limit, ascii_only, indent, pad):
    # Padded, a body takes the scan's path for large bodies (no bracket count first).
    body = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode() + (b" " * 5000 if pad else b"")
    assert too_deep(body, limit) == (depth(value) > limit)


@settings(max_examples=200, deadline=None)
@given(value=values, limit=st.integers(0, 6), cut=st.integers(0, 10_000))
def test_a_truncated_text_is_never_judged_shallower_than_what_a_parser_reads_of_it(value, limit, cut):
    body = json.dumps(value).encode()
    prefix = body[:cut % (len(body) + 1)]
    opened = 0
    deepest = 0
    # What a parser descends into before the text ends: brackets outside strings, counted by hand.
    in_string = escaped = False
    for char in prefix.decode(errors="ignore"):
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            opened += 1
            deepest = max(deepest, opened)
        elif char in "]}":
            opened -= 1
    assert too_deep(prefix, limit) == (deepest > limit)


@pytest.mark.parametrize("body, deep", [
    (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), True),
    (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, False),
    (b'["' + b"[" * 10_000 + b'"]', False),  # brackets in a string
    (b'["\\"' + b"[" * 10_000 + b'"]', False),  # after an escaped quote, still in the string
    (b'["\\\\"' + b",[" * 10_000, True),  # after an escaped backslash the string has ended
    (b"[" * 50_000, True),  # never closed
    (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, True),
], ids=["one past the limit", "at the limit", "in a string", "after an escaped quote", "after an escaped backslash",
        "never closed", "objects"])
def test_the_scan_on_the_probes_bodies(body, deep):
    assert too_deep(body) is deep


def test_a_body_past_the_limit_is_refused_before_json_would_overflow_its_stack():
    body = b"[" * sys.getrecursionlimit() * 2 + b"]" * sys.getrecursionlimit() * 2
    with pytest.raises(RecursionError):
        json.loads(body)  # what the scan protects: the parser behind it
    assert too_deep(body)


def test_nul_characters_are_found_by_path_in_values_and_keys():
    value = {"name": "a\u0000", "sites": [{"label": "ok"}, {"label": "b\u0000"}], "params": {"k\u0000": 1}}
    assert nul_fields(value) == ["name", "sites.1.label", "params"]
    assert nul_fields("\u0000") == ["body"]

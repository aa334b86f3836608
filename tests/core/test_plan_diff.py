"""Comparing versions section by section: matched by key, whatever the order."""

from __future__ import annotations

from services.core.plans.diff import diff_versions


def s(key: str, body: str = "", title: str | None = None, required: bool = True) -> dict:
    return {"key": key, "title": title or key.title(), "guidance": "", "required": required, "body": body}


def test_sections_are_matched_by_key_not_position():
    a = [s("one", "1"), s("two", "2"), s("three", "3")]
    b = [s("three", "3"), s("one", "1"), s("two", "2")]
    assert [r["status"] for r in diff_versions(a, b)] == ["unchanged"] * 3


def test_a_title_or_required_change_counts_as_changed_with_an_empty_body_diff():
    out = diff_versions([s("one", "1", "Old")], [s("one", "1", "New")])
    assert (out[0]["status"], out[0]["title_before"], out[0]["title_after"], out[0]["diff"]) == ("changed", "Old", "New", "")
    assert diff_versions([s("one", required=True)], [s("one", required=False)])[0]["status"] == "changed"


def test_removed_sections_stay_where_they_were():
    a = [s("one"), s("two"), s("three")]
    b = [s("one"), s("three"), s("four", "new")]
    out = diff_versions(a, b, "v1", "v2")
    assert [(r["key"], r["status"]) for r in out] == [("one", "unchanged"), ("two", "removed"), ("three", "unchanged"),
                                                     ("four", "added")]
    assert out[3]["diff"].splitlines()[:3] == ["--- v1/four", "+++ v2/four", "@@ -0,0 +1 @@"]


def test_body_changes_come_as_a_unified_diff():
    out = diff_versions([s("one", "keep\nold line")], [s("one", "keep\nnew line")], "v1", "v2")[0]
    assert out["diff"].splitlines()[2:] == ["@@ -1,2 +1,2 @@", " keep", "-old line", "+new line"]

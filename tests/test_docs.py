"""The README stays a front door, and the manual's links lead somewhere.

Pure text checks on the Markdown files (no TensorFlow): the README's length,
every relative link and #anchor in README.md, CHANGELOG.md and docs/*.md, and
the README's layout table against the folders and files at the top of the tree.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_README_LINES = 250

# Pages already linked but not written yet; a link to one may dangle until it
# exists (and then it must be taken off this list).
PAGES_TO_COME: set[str] = set()

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"`[^`]*`")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _markdown_files() -> list[Path]:
    return [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def _lines_outside_code(text: str, keep_inline_code: bool = False) -> list[tuple[int, str]]:
    """(line number, line) of the lines outside fenced code blocks; inline code
    is removed unless kept (a `[x](y)` or `# x` in code is no link or heading)."""
    lines, fence = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        marker = line.lstrip()[:3]
        if marker in ("```", "~~~"):
            if fence is None:
                fence = marker
            elif marker == fence:
                fence = None
            continue
        if fence is None:
            lines.append((number, line if keep_inline_code else INLINE_CODE.sub("", line)))
    return lines


def _anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    """Every heading's anchor in a Markdown file (a repeated one gets -1, -2, ...)."""
    seen: dict[str, int] = {}
    anchors = set()
    for _, line in _lines_outside_code(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = _anchor(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchors.add(base if count == 0 else f"{base}-{count}")
    return anchors


def _relative_links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every link not to a URL; a link's text may wrap lines."""
    lines = _lines_outside_code(path.read_text(encoding="utf-8"))
    text = "\n".join(line for _, line in lines)
    links = []
    for match in LINK.finditer(text):
        target = match.group(1)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # http:, https:, mailto:
        links.append((lines[text.count("\n", 0, match.start())][0], target))
    return links


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines, at most {MAX_README_LINES}: move detail into docs/")


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading(path):
    assert path.exists(), f"{path.relative_to(ROOT)} is missing"
    broken = []
    for number, target in _relative_links(path):
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(ROOT)}:{number}: {target}"
        if not linked.exists():
            if linked.relative_to(ROOT).as_posix() not in PAGES_TO_COME:
                broken.append(f"{where} (no such file)")
            continue
        if anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{where} (no heading with anchor #{anchor} in {linked.relative_to(ROOT)})")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_pages_to_come_are_still_to_come():
    written = sorted(page for page in PAGES_TO_COME if (ROOT / page).exists())
    assert not written, f"{written} exist now: remove them from PAGES_TO_COME in {Path(__file__).name}"


def test_the_anchor_rule_matches_githubs():
    assert _anchor("Which architecture?") == "which-architecture"
    assert _anchor("Real tables: column names, partial labels, multiclass") == (
        "real-tables-column-names-partial-labels-multiclass")
    assert _anchor("The `drift:` section") == "the-drift-section"
    assert _anchor("The MMoE paper's experiment") == "the-mmoe-papers-experiment"


def _layout_paths() -> set[str]:
    """The paths named in the first column of the README's layout table."""
    lines = [line for _, line in _lines_outside_code(README.read_text(encoding="utf-8"), keep_inline_code=True)]
    start = next(i for i, line in enumerate(lines) if line.strip() == "## Layout")
    paths = set()
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not set(line) <= set("|- :"):
            first_cell = line.split("|")[1]
            paths.update(token.rstrip("/") for token in re.findall(r"`([^`]+)`", first_cell))
    return paths


def _ignored(name: str) -> bool:
    """Whether .gitignore ignores a top-level name (outputs/, .venv/, build/, ...)."""
    patterns = [line.strip().strip("/") for line in (ROOT / ".gitignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def test_the_layout_table_names_every_top_level_folder_and_file():
    listed = _layout_paths()
    present = {entry.name for entry in ROOT.iterdir()
               if not entry.name.startswith(".") and not _ignored(entry.name)}
    missing = sorted(present - listed - {"README.md"})
    assert not missing, f"README.md's layout table does not list {missing}"


def test_every_path_in_the_layout_table_exists():
    gone = sorted(path for path in _layout_paths() if not (ROOT / path).exists())
    assert not gone, f"README.md's layout table lists {gone}, which do not exist"

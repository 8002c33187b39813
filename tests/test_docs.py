"""The README stays a front door, and the manual's links, paths and commands lead somewhere.

Text checks on the Markdown files: the README's length, every relative link
and #anchor in README.md, CHANGELOG.md and docs/*.md, the README's layout
table against the folders and files at the top of the tree, every repository
path the README and docs/*.md name, and every command of their ```bash blocks
(its flags parsed by the command's own argparse parser, in one subprocess).
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import re
import shlex
import subprocess
import sys
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



# --- Repository paths and commands in the README and docs/*.md ----------------------------------

def _manual_files() -> list[Path]:
    """The pages that describe the current tree (the CHANGELOG names paths as they were)."""
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


# Paths a page names that the repository does not hold, on purpose.
NOT_IN_THE_REPOSITORY = {
    "data/schema.pbtxt": "own-data.md's command writes it from a run's SchemaGen output",
}


def _top_folders() -> list[str]:
    """The repository's top-level folders (a path a page names starts with one of these)."""
    return sorted(entry.name for entry in ROOT.iterdir()
                  if entry.is_dir() and not entry.name.startswith(".") and not _ignored(entry.name))


def _repository_paths(path: Path) -> list[tuple[int, str]]:
    """(line number, path) of every `folder/...` path on a page, in prose or code, under a top-level folder.

    Not a path: one inside a longer path or URL (`outputs/bench/`, `gs://b/data/`), one with a
    placeholder (`<version>/`), one in an example error message (`error: data/my.csv ...`: the
    user's file).
    """
    folders = "|".join(re.escape(name) for name in _top_folders())
    pattern = re.compile(rf"(?<![\w./<>$~@:-])((?:{folders})/[\w.*/<>-]*)")
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for match in pattern.finditer(line):
            named = match.group(1).rstrip(".,;:")
            if "<" in named or ">" in named or "error:" in line[:match.start()]:
                continue
            found.append((number, named))
    return found


def test_the_path_rule_reads_paths_and_only_paths(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("See `pipeline/local_runner.py`, tests/test_docs.py::test_x and models/.\n"
                    "Not: outputs/bench/x.json, gs://b/data/x.csv, <root>/docs/x, serving/<version>/.\n"
                    "error: data/my.csv line 3: ...\n")
    assert _repository_paths(page) == [(1, "pipeline/local_runner.py"), (1, "tests/test_docs.py"), (1, "models/")]


@pytest.mark.parametrize("path", _manual_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_path_a_page_names_exists(path):
    missing = []
    for number, named in _repository_paths(path):
        exists = glob.glob(str(ROOT / named)) if "*" in named else (ROOT / named).exists()
        if not exists and named not in NOT_IN_THE_REPOSITORY:
            missing.append(f"{path.relative_to(ROOT)}:{number}: {named}")
    assert not missing, "paths that do not exist (fix the page, or the path moved):\n" + "\n".join(missing)


def _bash_commands(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, argv) of each command in the page's ```bash blocks: continuations joined,
    comments dropped, `a && b` / `a; b` / `a | b` split."""
    commands, in_bash, fence, pending, start = [], False, None, "", 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("```"):
            if fence is None:
                fence, in_bash = "```", stripped[3:].strip() == "bash"
            else:
                fence, in_bash = None, False
            continue
        if not in_bash:
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text, pending = pending + stripped, ""
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split, lexer.commenters = True, "#"
        argv: list[str] = []
        for token in [*lexer, ";"]:
            if set(token) <= set(";&|"):
                if argv:
                    commands.append((start, argv))
                argv = []
            else:
                argv.append(token)
    return commands


def _console_scripts() -> dict[str, str]:
    """Console script name -> "module:function", from pyproject.toml's [project.scripts]."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    return dict(re.findall(r'^([\w.-]+)\s*=\s*"([^"]+)"', section, re.MULTILINE))


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.MULTILINE))


def _program(argv: list[str]) -> tuple[str, str, list[str]] | None:
    """(kind, what, arguments) of a project command: ("script", "bench/x.py", ...),
    ("module", "bench.x", ...), ("entry", "pipeline.x:main", ...), ("make", "target", ...); None otherwise."""
    name = Path(argv[0]).name
    if name in ("python", "python3", "python3.10") and len(argv) > 1:
        if argv[1] == "-m" and len(argv) > 2:
            return "module", argv[2], argv[3:]
        if argv[1].endswith(".py"):
            return "script", argv[1], argv[2:]
    if name in _console_scripts():
        return "entry", _console_scripts()[name], argv[1:]
    if name == "make":
        return "make", " ".join(a for a in argv[1:] if "=" not in a), []
    return None


# Runs each command up to its argparse parse and no further: parse_args is patched to raise
# Parsed once the arguments are parsed (a bad flag exits 2 from argparse itself, --help exits 0).
_DRIVER = r"""
import argparse, contextlib, importlib, io, json, runpy, sys, traceback

class Parsed(BaseException):
    pass

depth = 0  # parse_args calls parse_known_args (and a subparser's): only the outermost call stops

def stop_after(original):
    def parse(self, args=None, namespace=None):
        global depth
        depth += 1
        try:
            result = original(self, args, namespace)
        finally:
            depth -= 1
        if depth == 0:
            raise Parsed()
        return result
    return parse

for name in ("parse_args", "parse_known_args"):
    setattr(argparse.ArgumentParser, name, stop_after(getattr(argparse.ArgumentParser, name)))
results = []
for kind, what, args in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    code, parsed = None, False
    sys.argv = [what, *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if kind == "script":
                runpy.run_path(what, run_name="__main__")
            elif kind == "module":
                runpy.run_module(what, run_name="__main__", alter_sys=True)
            else:
                module, function = what.split(":")
                getattr(importlib.import_module(module), function)()
    except Parsed:
        code, parsed = 0, True
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        err.write(traceback.format_exc())
        code = 1
    results.append({"code": code, "parsed": parsed, "out": out.getvalue()[:2000], "err": err.getvalue()[-2000:]})
print(json.dumps(results))
"""


def _run_to_parse(calls: list[tuple[str, str, list[str]]]) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", _DRIVER], input=json.dumps(calls), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _page_commands() -> list[tuple[str, tuple[str, str, list[str]]]]:
    found = []
    for page in _manual_files():
        for number, argv in _bash_commands(page):
            program = _program(argv)
            if program:
                found.append((f"{page.relative_to(ROOT)}:{number}: {shlex.join(argv)}", program))
    return found


def test_the_command_rule_reads_bash_blocks(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```bash\n.venv/bin/python pipeline/local_runner.py --seed 7 \\\n    --no-cache  # why\n"
                    "make run && mtl-report --output-dir x | head\n# only a comment\n```\n"
                    "```\npython not/bash.py\n```\n")
    assert _bash_commands(page) == [(2, [".venv/bin/python", "pipeline/local_runner.py", "--seed", "7", "--no-cache"]),
                                    (4, ["make", "run"]), (4, ["mtl-report", "--output-dir", "x"]),
                                    (4, ["head"])]
    assert _program(["make", "test", "TEST_MARK=not e2e"]) == ("make", "test", [])
    assert _program(["python", "-m", "bench.x", "--a"]) == ("module", "bench.x", ["--a"])


def test_every_make_target_a_page_shows_exists():
    targets = _make_targets()
    unknown = [where for where, (kind, what, _) in _page_commands()
               if kind == "make" and not set(what.split()) <= targets]
    assert not unknown, f"no such Makefile target (targets: {sorted(targets)}):\n" + "\n".join(unknown)


def test_every_command_a_page_shows_parses_and_answers_help():
    """Each python script, module and console script in a ```bash block: its arguments as shown
    parse with its own parser, and `--help` exits 0. Nothing runs past the parse."""
    shown = [(where, program) for where, program in _page_commands() if program[0] != "make"]
    programs = sorted({(kind, what) for _, (kind, what, _) in shown})
    calls = [list(program) for _, program in shown] + [[kind, what, ["--help"]] for kind, what in programs]
    results = _run_to_parse(calls)
    problems = []
    for (where, _), result in zip(shown, results[:len(shown)]):
        if not result["parsed"]:
            problems.append(f"{where}: does not parse (exit {result['code']}): {result['err'].strip()[-500:]}")
    for (kind, what), result in zip(programs, results[len(shown):]):
        if result["code"] != 0 or "usage:" not in result["out"]:
            problems.append(f"{what} --help: exit {result['code']}: {result['err'].strip()[-500:]}")
    assert not problems, "\n".join(problems)

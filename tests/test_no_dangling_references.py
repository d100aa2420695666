"""Every reference in the repository resolves for a user who has only the repository.

The project was written against notes that never shipped (a specification cited by section, a design
note and research notes, all outside the repository) and on machines whose paths leaked into comments.
A user can follow neither, so no tracked file may cite them: docstrings and comments name the paper a
definition comes from (or say it is byzref's own choice) and state the convention in place.

Flagged, with file:line:
* the word SPEC in capitals (the unshipped specification; "spec", "SPECS" or "SPECTRAL" are fine);
* the design note and the research notes by file name, unless the repository has a file of that name;
* absolute paths of one machine: /work/, /home/, /Users/, /root/, /mnt/ (a generic /tmp/ in a shell
  example, e.g. NUMBA_CACHE_DIR=/tmp/..., is not machine-specific and is allowed).
Skipped: this file (it names the patterns), binary files and the bundled data under problems/data
(except its Markdown).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()

#: the unshipped notes, by file name (flagged unless the repository has a file of that name)
_NOTES = ("DESIGN", "peers", "paper", "style")
_WORD = re.compile(r"\bSPEC\b|\bDESIGN\b")
_MACHINE = re.compile(r"(?<![\w.~-])/(?:work|home|Users|root|mnt)/")


def _tracked() -> list[str]:
    """The tracked files, except this one."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    return [p for p in out.stdout.decode().split("\0") if p and p != SELF]


def _text_files(paths: list[str], root: Path) -> list[tuple[str, str]]:
    files = []
    for rel in paths:
        if rel.startswith("problems/data/") and not rel.endswith(".md"):
            continue
        p = root / rel
        if not p.is_file():  # deleted in the work tree, or a submodule
            continue
        raw = p.read_bytes()
        if b"\0" in raw[:8192]:
            continue
        try:
            files.append((rel, raw.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return files


def dangling_references(paths: list[str], root: Path = ROOT) -> list[str]:
    """``file:line: text`` for every reference a user of the repository cannot follow."""
    names = {Path(p).name for p in paths}
    notes = [n + ".md" for n in _NOTES if n + ".md" not in names]
    note_re = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in notes) + r")\b") if notes else None
    hits = []
    for rel, text in _text_files(paths, root):
        for lineno, line in enumerate(text.splitlines(), 1):
            if _WORD.search(line) or _MACHINE.search(line) or (note_re and note_re.search(line)):
                hits.append(f"{rel}:{lineno}: {line.strip()[:120]}")
    return hits


def test_the_patterns_flag_what_they_should_and_nothing_else(tmp_path):
    flagged = ["see SPEC §3", "(DESIGN.md \"Results\")", "as read in /work/shared/x", "/home/user/data.csv",
               "peers.md §4.3"]
    fine = ["SPECTRAL gap", "the spec string", "SPECS = {}", "NUMBA_CACHE_DIR=/tmp/byzref-numba",
            "tmp_path / 'report.md'", "https://example.org/home/page", "~/work/notes"]
    for i, line in enumerate(flagged + fine):
        (tmp_path / f"f{i}.py").write_text(f"x = 1\n# {line}\n")
    hits = dangling_references([f"f{i}.py" for i in range(len(flagged + fine))], tmp_path)
    assert [h.split(":")[0] for h in hits] == [f"f{i}.py" for i in range(len(flagged))], hits
    assert all(h.split(":")[1] == "2" for h in hits)


def test_no_tracked_file_cites_unshipped_notes_or_machine_paths():
    hits = dangling_references(_tracked())
    assert not hits, ("references a user cannot follow (cite the paper, or state the convention in "
                      "place):\n" + "\n".join(hits))

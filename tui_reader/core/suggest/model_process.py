"""The learned model in a process of its own.

Training (TF-IDF, logistic regression) and prediction are CPU work that holds Python's GIL; in
the app's process they stalled key presses by tens of milliseconds, and scikit-learn alone adds
~150 MB to every annotator's process. Here a child process (``python -m`` this module, talking
JSON lines over its stdin and stdout) loads scikit-learn, trains and predicts; the app only sends
texts and receives suggestions, from a background thread, and starts it only once there are
enough labels to train on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

import orjson

from .suggestion import Suggestion


def _serve() -> None:
    """The child: one JSON request a line on stdin, one JSON reply a line on stdout."""
    from ..segment import Segments
    from ..store import Project
    from . import learned

    model = None
    for line in sys.stdin.buffer:
        request = orjson.loads(line)
        try:
            if request["op"] == "train":
                project = Project.open(request["root"])
                if not (learned.ready(project, request["annotator"], request["threshold"])
                        and learned.available()):
                    reply: Any = {"ok": False}
                else:
                    model = learned.train(project, request["annotator"])
                    reply = {"ok": True}
            elif request["op"] == "suggest":
                text = request["text"]
                found = [] if model is None else learned.suggest(
                    model, text, Segments(text), request["labels"], request["min_confidence"])
                reply = {"ok": True, "suggestions": [
                    [s.start, s.end, s.label, s.source, s.confidence] for s in found]}
            else:
                return
        except Exception as err:  # noqa: BLE001 - the app must hear about it, not hang
            reply = {"ok": False, "error": f"{type(err).__name__}: {err}"}
        sys.stdout.buffer.write(orjson.dumps(reply) + b"\n")
        sys.stdout.buffer.flush()


class ModelProcess:
    """A client for the model's process; every call blocks, so call it from a worker thread."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one request at a time on the pipe

    def _request(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "tui_reader.core.suggest.model_process"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(orjson.dumps(request) + b"\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the model process ended")
        reply = orjson.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def train(self, root: str, annotator: str, threshold: int) -> bool:
        """Train on ``annotator``'s labels; False when there are too few or no scikit-learn."""
        return bool(self._request({"op": "train", "root": root, "annotator": annotator,
                                   "threshold": threshold})["ok"])

    def suggest(self, text: str, labels: list[str], min_confidence: float) -> list[Suggestion]:
        reply = self._request({"op": "suggest", "text": text, "labels": labels,
                               "min_confidence": min_confidence})
        return [Suggestion(*row) for row in reply["suggestions"]]

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                assert process.stdin is not None
                process.stdin.close()  # end of input: the child's loop ends
                process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()


if __name__ == "__main__":
    _serve()

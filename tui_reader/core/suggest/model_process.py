"""The learned model in a process of its own: one per app, or one per project shared by every
session of a server.

Training (TF-IDF, logistic regression) and prediction are CPU work that holds Python's GIL; in
the app's process they stalled key presses by tens of milliseconds, and scikit-learn alone adds
~150 MB to a process. So the app only sends texts and receives suggestions, from a background
thread, and only once there are enough labels to train on; scikit-learn lives elsewhere:

* **alone** (``tui-reader annotate``): a child process of the app (``python -m`` this module,
  JSON lines over its stdin and stdout), started at the first request;
* **served** (``serve-ssh``): one trainer for the whole project, started by the server
  (``python -m`` this module ``--shared PROJECT --listen-fd N``) and reached over a Unix socket
  whose path the app finds in ``TUI_READER_MODEL_SOCKET``. It keeps one model per annotator (the
  :data:`MAX_MODELS` used last, pickled but for the one in use: a sixth of the memory; one pushed
  out is trained again when next asked for),
  answers requests one at a time in arrival order, trains once for every session of an annotator
  that asked meanwhile, and runs at a lower CPU priority than the sessions: a key never waits
  for a model. A session's death closes only its connection; if the trainer itself dies, the
  server starts another on the same socket and the clients reconnect.

:class:`ModelProcess` is the client for both; the protocol is the same JSON lines.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import selectors
import socket
import subprocess
import sys
import threading
from collections import OrderedDict, deque
from typing import Any

import orjson

from .suggestion import Suggestion

SOCKET_VARIABLE = "TUI_READER_MODEL_SOCKET"
MAX_MODELS = 256  # models the shared trainer keeps, pickled (about 0.1 MB each; 0.6 MB live)
MAX_REQUEST = 64 * 1024 * 1024  # bytes of one request line (an article's text and its labels)
SHARED_NICENESS = 10  # the shared trainer yields the CPU to the sessions


def _answer(request: dict[str, Any], model: Any, project: Any) -> tuple[dict[str, Any], Any]:
    """One request against ``model`` (None: not trained); the reply and the model after it."""
    from ..segment import Segments
    from ..store import Project
    from . import learned

    try:
        if request["op"] == "train":
            project = project if project is not None else Project.open(request["root"])
            if not (learned.ready(project, request["annotator"], request["threshold"])
                    and learned.available()):
                return {"ok": False}, model
            return {"ok": True}, learned.train(project, request["annotator"])
        if request["op"] == "suggest":
            text = request["text"]
            found = [] if model is None else learned.suggest(
                model, text, Segments(text), request["labels"], request["min_confidence"])
            return {"ok": True, "suggestions": [
                [s.start, s.end, s.label, s.source, s.confidence] for s in found]}, model
        return {"ok": False, "error": f"unknown request {request['op']!r}"}, model
    except Exception as err:  # noqa: BLE001 - the app must hear about it, not hang
        return {"ok": False, "error": f"{type(err).__name__}: {err}"}, model


def _serve() -> None:
    """The app's own child: one JSON request a line on stdin, one JSON reply a line on stdout."""
    model = None
    for line in sys.stdin.buffer:
        request = orjson.loads(line)
        if request.get("op") not in ("train", "suggest"):
            return
        reply, model = _answer(request, model, None)
        sys.stdout.buffer.write(orjson.dumps(reply) + b"\n")
        sys.stdout.buffer.flush()


# ------------------------------------------------------------------------------ the shared trainer
class SentenceCache:
    """Sentence boundaries of the texts seen before, as :class:`~..segment.Segments` gives them:
    every training reads the same articles again, and segmenting them was a third of the
    trainer's time (bench/bench_ssh.py). Keyed by a digest of the text, at most ``limit``
    sentences in all, the least recently used texts forgotten first."""

    def __init__(self, limit: int = 500_000) -> None:
        self.limit = limit
        self._by_digest: OrderedDict[bytes, list[tuple[int, int]]] = OrderedDict()
        self._held = 0

    def __call__(self, text: str) -> _Sentences:
        from ..segment import Segments

        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        found = self._by_digest.get(digest)
        if found is None:
            found = Segments(text).sentences()
            self._by_digest[digest] = found
            self._held += len(found)
            while self._held > self.limit and len(self._by_digest) > 1:
                self._held -= len(self._by_digest.popitem(last=False)[1])
        else:
            self._by_digest.move_to_end(digest)
        return _Sentences(found)


class _Sentences:
    """What the model's code asks of a Segments: its sentences."""

    def __init__(self, sentences: list[tuple[int, int]]) -> None:
        self._sentences = sentences

    def sentences(self) -> list[tuple[int, int]]:
        return list(self._sentences)


class SharedTrainer:
    """One project's models, one per annotator, for every connection on a listening socket."""

    def __init__(self, root: str, listener: socket.socket) -> None:
        self.root = root
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.buffers: dict[socket.socket, bytearray] = {}
        self.queue: deque[tuple[socket.socket, dict[str, Any]]] = deque()
        # annotator -> pickled model (None: too few labels); one model is kept live, the last used
        self.models: OrderedDict[str, bytes | None] = OrderedDict()
        self._live: tuple[str, Any] | None = None
        self.thresholds: dict[str, int] = {}
        self.sentences = SentenceCache()
        self._project: Any = None

    @property
    def project(self) -> Any:
        from ..store import Project

        if self._project is None:
            self._project = Project.open(self.root)
        else:
            self._project.reload_catalog()
        return self._project

    def run(self) -> None:
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ)
        while True:
            for key, _ in self.selector.select(0 if self.queue else None):
                if key.fileobj is self.listener:
                    self._accept()
                else:
                    self._read(key.fileobj)  # type: ignore[arg-type]
            if self.queue:
                conn, request = self.queue.popleft()
                try:
                    self._handle(conn, request)
                except Exception as err:  # noqa: BLE001 - one bad request must not end the trainer
                    self._reply(conn, {"ok": False, "error": f"{type(err).__name__}: {err}"})

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.settimeout(10.0)  # a client that stops reading its replies is dropped
        self.buffers[conn] = bytearray()
        self.selector.register(conn, selectors.EVENT_READ)

    def _drop(self, conn: socket.socket) -> None:
        self.selector.unregister(conn)
        self.buffers.pop(conn, None)
        self.queue = deque(item for item in self.queue if item[0] is not conn)
        conn.close()

    def _read(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(1024 * 1024)
        except (BlockingIOError, InterruptedError, TimeoutError):
            return
        except OSError:
            data = b""
        if not data:  # the session ended (or died): only its connection goes
            self._drop(conn)
            return
        buffer = self.buffers[conn]
        buffer += data
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end])
            del buffer[:end + 1]
            try:
                request = orjson.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("not an object")
            except ValueError:
                self._drop(conn)
                return
            self.queue.append((conn, request))
        if len(buffer) > MAX_REQUEST:
            self._drop(conn)

    def _reply(self, conn: socket.socket, reply: dict[str, Any]) -> None:
        try:
            conn.sendall(orjson.dumps(reply) + b"\n")
        except OSError:
            if conn in self.buffers:
                self._drop(conn)

    def _model(self, annotator: str, threshold: int) -> Any:
        """The annotator's model; one pushed out (or never trained here: a new trainer after a
        crash) is trained now, once."""
        if annotator not in self.models:
            self._train(annotator, threshold)
        self.models.move_to_end(annotator)
        if self._live is not None and self._live[0] == annotator:
            return self._live[1]
        blob = self.models[annotator]
        model = None if blob is None else pickle.loads(blob)  # our own bytes, made below
        self._live = (annotator, model)
        return model

    def _train(self, annotator: str, threshold: int) -> dict[str, Any]:
        """Train ``annotator``'s model if there are enough labels: what ``learned.ready`` and
        ``learned.train`` do, reading the project once instead of twice."""
        from . import learned

        model = None
        try:
            examples = learned.training_examples(self.project, annotator)
            labelled = sum(1 for _, label in examples if label != learned.NONE)
            if labelled >= threshold and len({label for _, label in examples}) >= 2 \
                    and learned.available():
                model = learned.SentenceModel().fit(examples)
            reply: dict[str, Any] = {"ok": model is not None}
        except Exception as err:  # noqa: BLE001 - the app hears about it; no model
            reply = {"ok": False, "error": f"{type(err).__name__}: {err}"}
        if model is not None:
            self.models[annotator] = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
            self._live = (annotator, model)
        elif annotator not in self.models:  # too few labels now: a model trained before stays
            self.models[annotator] = None
        self.thresholds[annotator] = threshold
        self.models.move_to_end(annotator)
        while len(self.models) > MAX_MODELS:
            self.models.popitem(last=False)
        return reply

    def _handle(self, conn: socket.socket, request: dict[str, Any]) -> None:
        annotator = request.get("annotator")
        op = request.get("op")
        if not isinstance(annotator, str) or op not in ("train", "suggest"):
            self._reply(conn, {"ok": False, "error": "a request needs an op and an annotator"})
            return
        threshold = int(request.get("threshold", 50))
        if op == "train":
            # Every session of this annotator that asked meanwhile gets this one training.
            waiting = [c for c, r in self.queue if r.get("op") == "train" and r.get("annotator") == annotator]
            self.queue = deque(item for item in self.queue if not (
                item[1].get("op") == "train" and item[1].get("annotator") == annotator))
            reply = self._train(annotator, threshold)
            for client in [conn, *waiting]:
                self._reply(client, reply)
            return
        from .learned import suggest

        model = self._model(annotator, threshold)
        text = request["text"]
        found = [] if model is None else suggest(
            model, text, self.sentences(text), request["labels"], request["min_confidence"])
        self._reply(conn, {"ok": True, "suggestions": [
            [s.start, s.end, s.label, s.source, s.confidence] for s in found]})


def _serve_shared(root: str, listen_fd: int) -> None:
    import warnings

    # One thread of numerical work: BLAS threads that spin between requests took a whole core
    # beside the sessions (measured: bench/bench_ssh.py), for models that train in 0.1 s anyway.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"

    warnings.simplefilter("ignore")  # scikit-learn's convergence notes are not the log's business
    try:
        os.nice(SHARED_NICENESS)
    except OSError:
        pass
    from . import learned

    trainer = SharedTrainer(root, socket.socket(fileno=listen_fd))
    # The model's code segments each article it reads; here the same articles come back at every
    # training, so it gets their sentences from the cache (its own module, in this process only).
    learned.Segments = trainer.sentences  # type: ignore[assignment,misc]
    trainer.run()


# ------------------------------------------------------------------------------------ the client
class ModelProcess:
    """A client for the model's process; every call blocks, so call it from a worker thread.

    Served (``TUI_READER_MODEL_SOCKET`` set, or ``socket_path`` given) it talks to the project's
    shared trainer; otherwise it starts a process of its own at the first request."""

    def __init__(self, socket_path: str | None = None) -> None:
        self.socket_path = socket_path or os.environ.get(SOCKET_VARIABLE) or None
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: socket.socket | None = None
        self._replies: Any = None
        self._lock = threading.Lock()  # one request at a time on the pipe or socket
        self._annotator = ""
        self._threshold = 0
        self._root = ""

    def _request(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            line = self._shared(request) if self.socket_path else self._private(request)
        if not line:
            raise RuntimeError("the model process ended")
        reply = orjson.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def _private(self, request: dict[str, Any]) -> bytes:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tui_reader.core.suggest.model_process"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(orjson.dumps(request) + b"\n")
        self._process.stdin.flush()
        return self._process.stdout.readline()

    def _shared(self, request: dict[str, Any]) -> bytes:
        data = orjson.dumps(request) + b"\n"
        for _attempt in range(2):  # a trainer that was restarted: once more, on a new connection
            try:
                if self._conn is None:
                    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    try:
                        conn.connect(self.socket_path)
                    except OSError:
                        conn.close()
                        raise
                    self._conn, self._replies = conn, conn.makefile("rb")
                self._conn.sendall(data)
                line = self._replies.readline()
            except OSError:
                line = b""
            if line:
                return line
            self._disconnect()
        return b""

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._replies.close()
            self._conn.close()
            self._conn = self._replies = None

    def train(self, root: str, annotator: str, threshold: int) -> bool:
        """Train on ``annotator``'s labels; False when there are too few or no scikit-learn."""
        self._root, self._annotator, self._threshold = root, annotator, threshold
        return bool(self._request({"op": "train", "root": root, "annotator": annotator,
                                   "threshold": threshold})["ok"])

    def suggest(self, text: str, labels: list[str], min_confidence: float) -> list[Suggestion]:
        """The model's suggestions for ``text`` (trained by the last :meth:`train`)."""
        reply = self._request({"op": "suggest", "text": text, "labels": labels,
                               "min_confidence": min_confidence, "annotator": self._annotator,
                               "threshold": self._threshold, "root": self._root})
        return [Suggestion(*row) for row in reply["suggestions"]]

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            self._disconnect()
        if process is not None and process.poll() is None:
            try:
                assert process.stdin is not None
                process.stdin.close()  # end of input: the child's loop ends
                process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()


def main(argv: list[str]) -> int:
    if not argv:
        _serve()
        return 0
    if len(argv) == 4 and argv[0] == "--shared" and argv[2] == "--listen-fd":
        _serve_shared(argv[1], int(argv[3]))
        return 0
    print("usage: python -m tui_reader.core.suggest.model_process [--shared PROJECT --listen-fd N]",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Suggestions from a model server speaking Label Studio's ML backend protocol.

GLiNER, spaCy and LLM wrappers of that ecosystem (``label-studio-ml`` servers) answer::

    GET  /health                                   -> {"status": "UP", ...}
    POST /setup   {"project", "schema", ...}       -> {"model_version": "..."}
    POST /predict {"tasks": [{"id", "data": {"text": ...}}], "project", "label_config", "params"}
                  -> {"results": [{"result": [{"from_name", "to_name", "type": "labels",
                                               "value": {"start", "end", "text", "labels": [...]},
                                               "score"?}], "score"?, "model_version"?}],
                      "model_version"?}

:class:`MLBackend` is the client: each call blocks for at most ``timeout`` seconds and raises
:class:`MLBackendError` (one line naming the server and what went wrong); answers are cached by
the text's SHA-256. The ``schema`` sent is the labelling config of tui-reader's Label Studio
export, so a backend that reads its labels from it (as most do) predicts the project's labels.
Offsets are code points (as Label Studio 1.23 counts); a region whose ``value.text`` shows UTF-16
offsets is converted. A region with a label the project does not have, or outside the text, is
left out (:attr:`MLBackend.dropped` counts them).

:class:`BackgroundSuggester` runs the requests on a thread of its own, one article at a time
(the newest asked for first; an article asked for again is answered from the cache), so that the
app never waits for the server: it asks with :meth:`~BackgroundSuggester.request` and receives
suggestions (or one error line) through the callback it gave, on that thread.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..errors import InputError, TuiReaderError
from .suggestion import Suggestion

DEFAULT_TIMEOUT = 10.0  # seconds per request
CACHE_SIZE = 256  # articles


class MLBackendError(TuiReaderError):
    """The ML backend could not be reached or answered something unusable (one line)."""


def check_url(url: str) -> str:
    """``url`` without a trailing slash; InputError unless it is an http(s) URL with a host."""
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InputError(f"ML backend {url!r}: give an http:// or https:// URL, e.g. "
                         "http://127.0.0.1:9090")
    return url.strip().rstrip("/")


def backend_url(option: str | None, config_value: str | None) -> str | None:
    """The backend to use: the ``--ml-backend`` option, else ``ml_backend`` in config.toml
    (``""`` turns it off), checked."""
    value = option if option is not None else config_value
    return check_url(value) if value else None


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class MLBackend:
    """A client of one ML backend for one project's labels. Thread-safe; every call blocks."""

    def __init__(self, url: str, labels: tuple[str, ...] | list[str], *, timeout: float | None = None,
                 project: str = "tui-reader", cache_size: int = CACHE_SIZE) -> None:
        from ..formats.label_studio import labeling_config

        self.url = check_url(url)
        self.labels = tuple(labels)
        self.timeout = DEFAULT_TIMEOUT if timeout is None else timeout  # read now: tests change it
        self.project = project
        self.label_config = labeling_config(self.labels)
        self.model_version: str | None = None
        self.dropped = 0
        self._cache: OrderedDict[str, list[Suggestion]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._ready = False

    # -- the protocol
    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                content = response.read()
        except urllib.error.HTTPError as err:
            detail = err.read()[:200].decode("utf-8", "replace").strip().replace("\n", " ")
            raise MLBackendError(f"ML backend {self.url}{path}: HTTP {err.code}"
                                 + (f" ({detail})" if detail else "")) from None
        except TimeoutError:
            raise MLBackendError(f"ML backend {self.url}{path}: no answer within "
                                 f"{self.timeout:g} s") from None
        except urllib.error.URLError as err:
            reason = err.reason
            if isinstance(reason, TimeoutError):
                raise MLBackendError(f"ML backend {self.url}{path}: no answer within "
                                     f"{self.timeout:g} s") from None
            raise MLBackendError(f"ML backend {self.url}: cannot connect ({reason})") from None
        except OSError as err:
            raise MLBackendError(f"ML backend {self.url}: {err.strerror or err}") from None
        try:
            return json.loads(content)
        except ValueError:
            raise MLBackendError(f"ML backend {self.url}{path}: the answer is not JSON") from None

    def health(self) -> dict[str, Any]:
        """``GET /health``; MLBackendError unless the server says it is up."""
        answer = self._call("GET", "/health")
        if not isinstance(answer, dict) or str(answer.get("status", "UP")).upper() != "UP":
            raise MLBackendError(f"ML backend {self.url}/health: not up ({str(answer)[:100]})")
        return answer

    def setup(self) -> str | None:
        """``POST /setup`` with the project's labelling config; returns the model version."""
        answer = self._call("POST", "/setup", {
            "project": self.project, "schema": self.label_config, "hostname": "", "access_token": "",
            "extra_params": None,
        })
        if isinstance(answer, dict) and answer.get("model_version") is not None:
            self.model_version = str(answer["model_version"])
        self._ready = True
        return self.model_version

    def predict(self, text: str) -> list[Suggestion]:
        """The backend's suggestions for ``text`` (cached by its SHA-256): ``source`` is
        ``ml:<model version>``, ``confidence`` the region's score (else the prediction's, else 1)."""
        key = text_key(text)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        if not self._ready:
            self.health()
            self.setup()
        answer = self._call("POST", "/predict", {
            "tasks": [{"id": 1, "data": {"text": text}}], "project": self.project,
            "label_config": self.label_config, "params": {"context": None},
        })
        suggestions = self._suggestions(text, answer)
        with self._lock:
            self._cache[key] = suggestions
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return suggestions

    def cached(self, text: str) -> list[Suggestion] | None:
        with self._lock:
            return self._cache.get(text_key(text))

    # -- the answer
    def _suggestions(self, text: str, answer: Any) -> list[Suggestion]:
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            raise MLBackendError(f"ML backend {self.url}/predict: no \"results\" list in the answer")
        results = answer["results"]
        if not results:
            return []
        predictions = results[0] if isinstance(results[0], list) else [results[0]]
        version = answer.get("model_version") or self.model_version
        found: dict[tuple[int, int, str], Suggestion] = {}
        for prediction in predictions:
            if not isinstance(prediction, dict):
                continue
            version = prediction.get("model_version") or version
            source = f"ml:{version}" if version else "ml"
            for region in prediction.get("result") or []:
                for suggestion in self._region(text, region, prediction.get("score"), source):
                    old = found.get(suggestion.key)
                    if old is None or suggestion.confidence > old.confidence:
                        found[suggestion.key] = suggestion
        if version:
            self.model_version = str(version)
        return sorted(found.values(), key=lambda s: (s.start, s.end, s.label))

    def _region(self, text: str, region: Any, score: Any, source: str) -> list[Suggestion]:
        from ..formats.label_studio import code_points

        value = region.get("value") if isinstance(region, dict) else None
        if not isinstance(value, dict):
            return []
        start, end = value.get("start"), value.get("end")
        labels = value.get("labels") or value.get("hypertextlabels") or []
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(labels, list)):
            self.dropped += 1
            return []
        start, end = code_points(text, start, end, value.get("text"))
        confidence = _score(region.get("score"), _score(score, 1.0))
        out = []
        for label in labels:
            if label in self.labels and 0 <= start < end <= len(text):
                out.append(Suggestion(start, end, label, source, confidence))
            else:
                self.dropped += 1
        return out


def with_ml(suggestions: list[Suggestion], found: list[Suggestion]) -> list[Suggestion]:
    """The open article's suggestions plus the backend's, a rule's suggestion kept where both name
    the same start, end and label."""
    keys = {p.key for p in suggestions}
    return [*suggestions, *(s for s in found if s.key not in keys)]


def _score(value: Any, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return default


class BackgroundSuggester:
    """Asks an :class:`MLBackend` on a thread of its own, so that nothing waits for it.

    ``on_result(text_sha256, suggestions)`` or ``on_error(one line)`` is called on that thread
    (the app hands it to its own loop, e.g. with ``App.call_from_thread``). Requests queue up to
    ``pending`` articles, the newest first; an error is reported once until a request succeeds.
    """

    def __init__(self, backend: MLBackend,
                 on_result: Callable[[str, list[Suggestion]], None],
                 on_error: Callable[[str], None], pending: int = 4) -> None:
        self.backend = backend
        self.on_result = on_result
        self.on_error = on_error
        self._queue: queue.LifoQueue[str | None] = queue.LifoQueue()
        self._pending = pending
        self._failing = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="ml-backend", daemon=True)
        self._thread.start()

    def request(self, text: str) -> list[Suggestion] | None:
        """Ask for ``text``'s suggestions. Returns them at once when cached (no callback then);
        else None, and the callback follows when the server answers. Never blocks."""
        cached = self.backend.cached(text)
        if cached is not None:
            return cached
        if not self._closed:
            if self._queue.qsize() >= self._pending:
                try:  # drop the oldest waiting request: the annotator has moved on
                    with self._queue.mutex:
                        self._queue.queue.pop(0)
                except IndexError:
                    pass
            self._queue.put(text)
        return None

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            try:
                suggestions = self.backend.predict(text)
            except MLBackendError as err:
                if not self._failing:
                    self._failing = True
                    self.on_error(str(err))
                continue
            self._failing = False
            self.on_result(text_key(text), suggestions)


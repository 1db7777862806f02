"""Suggestions from a real Label Studio ML backend: label-studio-ml's own server (its Flask app,
``label_studio_ml.api.init_app``) running a small rules model written here, on 127.0.0.1; and
backends that hang, refuse or talk nonsense, on real sockets."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from tests.peers import PeerUnavailable, hung_http_server, start_ml_backend
from tui_reader.core.errors import InputError
from tui_reader.core.suggest.ml_backend import (
    BackgroundSuggester,
    MLBackend,
    MLBackendError,
    backend_url,
    check_url,
    with_ml,
)

LABELS = ("claim", "quote", "opinion", "boilerplate")
TEXT = ('Flags 🇨🇺 and faces 😀: "family 👨\u200d👩\u200d👧 first" said the minister.\n'
        'Prices rose 4.5% in May, and "nothing will change" she added.')

# The model: rules, no weights. It reads its labels from the config /setup sent (a backend that
# did not get our labelling config would suggest nothing), and logs every text it is asked about.
MODEL = '''
import re
from label_studio_ml.model import LabelStudioMLBase

LOG = {log!r}


class QuoteRules(LabelStudioMLBase):
    def predict(self, tasks, **kwargs):
        from_name, info = next(iter(self.parsed_label_config.items()))
        labels = set(info["labels"])
        out = []
        for task in tasks:
            text = task["data"]["text"]
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(text.replace("\\n", " ") + "\\n")
            result = []
            rules = [(r'"[^"]+"', "quote", 0.9), (r"\\d+(?:\\.\\d+)?%", "claim", 0.6),
                     (r"minister", "person", 0.99)]  # "person": not a label of the project
            for pattern, label, score in rules:
                if label not in labels and label != "person":
                    continue
                for m in re.finditer(pattern, text):
                    result.append({{"from_name": from_name, "to_name": "text", "type": "labels",
                                   "value": {{"start": m.start(), "end": m.end(), "text": m.group(),
                                             "labels": [label]}}, "score": score}})
            out.append({{"result": result, "score": 0.5, "model_version": "quote-rules-1"}})
        return out
'''


@pytest.fixture(scope="module")
def ml_server(tmp_path_factory):
    work = tmp_path_factory.mktemp("ml-backend")
    log = work / "asked.txt"
    (work / "quote_rules.py").write_text(MODEL.format(log=str(log)))
    try:
        server = start_ml_backend(work / "quote_rules.py", "QuoteRules", work)
    except PeerUnavailable as err:
        pytest.skip(f"label-studio-ml 1.0.9 unavailable: {err}")
    server.asked = log
    yield server
    server.stop()


def asked(server) -> list[str]:
    return server.asked.read_text(encoding="utf-8").splitlines() if server.asked.exists() else []


def test_suggestions_from_a_real_ml_backend_land_on_the_right_characters(ml_server):
    backend = MLBackend(ml_server.base, LABELS)
    assert backend.health()["status"] == "UP"
    found = backend.predict(TEXT)
    got = [(TEXT[s.start:s.end], s.label, s.confidence, s.source) for s in found]
    assert got == [
        ('"family 👨\u200d👩\u200d👧 first"', "quote", 0.9, "ml:quote-rules-1"),
        ("4.5%", "claim", 0.6, "ml:quote-rules-1"),
        ('"nothing will change"', "quote", 0.9, "ml:quote-rules-1"),
    ]
    assert backend.dropped == 1  # "person" is not a label of this project
    assert backend.model_version == "quote-rules-1"


def test_answers_are_cached_by_text(ml_server):
    backend = MLBackend(ml_server.base, LABELS)
    text = f"Cache check {time.time_ns()}: \"once\" only."
    first = backend.predict(text)
    before = len(asked(ml_server))
    assert backend.predict(text) == first and backend.cached(text) == first
    assert len(asked(ml_server)) == before  # the server was not asked again
    backend.predict(text + " ")  # another text is asked
    assert len(asked(ml_server)) == before + 1


def test_the_background_suggester_answers_through_its_callback(ml_server):
    backend = MLBackend(ml_server.base, LABELS)
    results: list = []
    done = threading.Event()
    suggester = BackgroundSuggester(backend, lambda key, s: (results.append(s), done.set()),
                                    lambda line: results.append(line))
    assert suggester.request(TEXT) is None  # not cached yet: the answer comes later
    assert done.wait(30)
    assert [s.label for s in results[0]] == ["quote", "claim", "quote"]
    assert suggester.request(TEXT) == results[0]  # now from the cache, at once
    suggester.close()


@pytest.fixture
def hung_backend():
    with hung_http_server() as server:
        yield server.url


def test_a_hung_backend_times_out_with_one_line(hung_backend):
    backend = MLBackend(hung_backend, LABELS, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(MLBackendError) as err:
        backend.predict(TEXT)
    assert time.monotonic() - started < 3
    assert str(err.value) == f"ML backend {hung_backend}/health: no answer within 0.5 s"


def test_a_hung_backend_never_blocks_the_caller():
    """The server holds the first request for a minute: every ``request`` still returns at once,
    so all 50 are back while that first request is unanswered."""
    reported = threading.Event()
    with hung_http_server() as server:
        suggester = BackgroundSuggester(MLBackend(server.url, LABELS, timeout=60),
                                        lambda key, s: None, lambda line: reported.set())
        answers: list[object] = []
        caller = threading.Thread(target=lambda: answers.extend(
            suggester.request(f"{TEXT} {n}") for n in range(50)))  # paging through articles
        caller.start()
        caller.join(30)  # a deadlock guard, far above the microseconds this takes
        assert not caller.is_alive(), "request() waited for the hung server"
        assert answers == [None] * 50
        assert not reported.is_set()  # the first request is still held by the server
        suggester.close()


def test_a_hung_backend_reports_once(hung_backend):
    errors: list[str] = []
    reported = threading.Event()
    suggester = BackgroundSuggester(MLBackend(hung_backend, LABELS, timeout=0.3),
                                    lambda key, s: None, lambda line: (errors.append(line), reported.set()))
    for n in range(50):  # an annotator paging through articles while the backend hangs
        assert suggester.request(f"{TEXT} {n}") is None
    assert reported.wait(10)
    time.sleep(1.0)  # later requests fail too, and say nothing more
    assert errors == [f"ML backend {hung_backend}/health: no answer within 0.3 s"]
    suggester.close()


def test_refused_and_unusable_backends_are_one_line_errors(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed now: nothing listens
    with pytest.raises(MLBackendError, match=r"^ML backend http://127.0.0.1:\d+: cannot connect"):
        MLBackend(f"http://127.0.0.1:{port}", LABELS, timeout=2).predict(TEXT)
    with pytest.raises(InputError, match="give an http:// or https:// URL"):
        check_url("127.0.0.1:9090")
    assert backend_url(None, "http://h:9090/") == "http://h:9090"
    assert backend_url("http://cli:1", "http://config:2") == "http://cli:1"
    assert backend_url("", "http://config:2") is None  # --ml-backend "" turns it off


def test_ml_backend_in_config_toml(tmp_path: Path):
    from tui_reader.core.config import load_config
    from tui_reader.core.errors import StoreError

    path = tmp_path / "config.toml"
    path.write_text('ml_backend = "http://127.0.0.1:9090"\n')
    assert load_config(path).ml_backend == "http://127.0.0.1:9090"
    path.write_text('ml_backend = "ftp://x"\n')
    with pytest.raises(StoreError, match="'ml_backend' must be an http:// or https:// URL"):
        load_config(path)


def test_backend_suggestions_join_the_rules_without_doubling_one():
    from tui_reader.core.suggest.suggestion import Suggestion

    rule = Suggestion(0, 5, "quote", "rule:quotes", 1.0)
    same = Suggestion(0, 5, "quote", "ml:v1", 0.9)
    other = Suggestion(6, 9, "claim", "ml:v1", 0.7)
    assert with_ml([rule], [same, other]) == [rule, other]

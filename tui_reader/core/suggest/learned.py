"""Learned suggestions: a linear sentence classifier trained on this project's own labels.

The model reads one sentence (as :class:`~tui_reader.core.segment.Segments` gives them) and
predicts one of the project's labels or ``"none"``: a TF-IDF of word 1-2-grams and ``char_wb``
2-5-grams feeding a class-balanced logistic regression (scikit-learn). It trains in well under a
second on a few thousand sentences on one CPU core, holds no global state (each
:class:`SentenceModel` owns its vectorisers and weights), so the app can train it in a background
thread and swap the new model in when it is ready.

scikit-learn is an optional extra (``pip install 'tui-reader[suggest]'``): this module imports
without it and raises :class:`ModelUnavailable` only when a model is fitted.

**Which sentences teach the model** (:func:`sentence_labels`), per annotator and document:

* A sentence takes the label of that annotator's span covering the largest part of it, if that
  span covers at least half of the sentence's characters (``"According to X, ..."`` labelled as
  one quote, a claim sentence holding a short quoted phrase: the claim).
* A sentence that the annotator's spans touch but cover less than half of (a three-word quote in
  a long sentence), or that two labels cover equally, is left out: it is neither clearly that
  label nor clearly nothing.
* A sentence no span of the annotator touches is ``"none"`` when the annotator marked the
  document done, or when it ends before the start of the annotator's last span in the document
  (the annotator read past it and chose not to label it). Sentences after the last span of a
  document not yet done are left out: nobody has read them yet.

API: :func:`ready` (enough labels yet?), :func:`train` (fit on a project, any thread),
:func:`suggest` (one model's suggestions for one text), :func:`merge` (rules' and model's
suggestions together); :func:`training_examples` and :class:`SentenceModel` underneath.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import PackageMissingError
from ..segment import Segments
from .suggestion import Suggestion

if TYPE_CHECKING:
    from ..store import Project

__all__ = [
    "MIN_LABELLED_SENTENCES",
    "NONE",
    "SOURCE",
    "ModelUnavailable",
    "SentenceModel",
    "available",
    "merge",
    "ready",
    "sentence_labels",
    "suggest",
    "train",
    "training_examples",
]

NONE = "none"
SOURCE = "model:linear"
#: Labelled (not ``"none"``) sentences an annotator needs before the app trains a model.
MIN_LABELLED_SENTENCES = 50
_INSTALL_HINT = "learned suggestions need scikit-learn: pip install 'tui-reader[suggest]'"


class ModelUnavailable(PackageMissingError):
    """scikit-learn is not installed, so no model can be trained or used."""


def available() -> bool:
    """Whether scikit-learn can be imported (the model can be trained)."""
    try:
        _sklearn()
    except ModelUnavailable:
        return False
    return True


def _sklearn() -> dict[str, Any]:
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline
    except ImportError as err:  # also raised when sys.modules["sklearn"] is None
        raise ModelUnavailable(_INSTALL_HINT) from err
    return {"TfidfVectorizer": TfidfVectorizer, "LogisticRegression": LogisticRegression,
            "FeatureUnion": FeatureUnion, "Pipeline": Pipeline}


class SentenceModel:
    """A sentence classifier: ``fit`` on (sentence, label) pairs, ``predict`` (label, probability).

    ``C`` is the inverse regularisation strength of the logistic regression; the default suits
    TF-IDF features on a few hundred to a few thousand sentences.
    """

    def __init__(self, *, C: float = 10.0, max_iter: int = 2000) -> None:
        self.C = C
        self.max_iter = max_iter
        self._pipeline: Any = None
        self.labels: tuple[str, ...] = ()  # the classes seen in training, "none" included
        self.n_examples = 0

    @property
    def fitted(self) -> bool:
        return self._pipeline is not None

    def fit(self, examples: Sequence[tuple[str, str]]) -> SentenceModel:
        """Train on ``(sentence text, label)`` pairs (label ``"none"`` for unlabelled sentences).

        Raises :class:`ModelUnavailable` without scikit-learn and ``ValueError`` when the examples
        hold fewer than two distinct labels. Returns the model itself.
        """
        sk = _sklearn()
        classes = {label for _, label in examples}
        if len(classes) < 2:
            raise ValueError(
                f"a model needs examples of at least two labels, got {sorted(classes) or 'none'}"
            )
        features = sk["FeatureUnion"]([
            ("word", sk["TfidfVectorizer"](analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                           token_pattern=r"(?u)\b\w+\b|[^\w\s]")),
            ("char", sk["TfidfVectorizer"](analyzer="char_wb", ngram_range=(2, 5),
                                           sublinear_tf=True)),
        ])
        classifier = sk["LogisticRegression"](C=self.C, class_weight="balanced",
                                              max_iter=self.max_iter)
        pipeline = sk["Pipeline"]([("features", features), ("classifier", classifier)])
        pipeline.fit([text for text, _ in examples], [label for _, label in examples])
        # Assigned last: a model being refitted in another thread keeps predicting with the old
        # weights until the new ones are complete.
        self.labels = tuple(str(c) for c in pipeline.classes_)
        self.n_examples = len(examples)
        self._pipeline = pipeline
        return self

    def _probabilities(self, sentences: Sequence[str]) -> tuple[Any, list[str]] | None:
        """Each sentence's probability of each class, and the classes; None for no sentences.
        (The pipeline is read once: another thread may swap in a refitted one meanwhile.)"""
        pipeline = self._pipeline
        if pipeline is None:
            raise ValueError("the model is not trained yet (call fit first)")
        if not sentences:
            return None
        return pipeline.predict_proba(list(sentences)), [str(c) for c in pipeline.classes_]

    def predict(self, sentences: Sequence[str]) -> list[tuple[str, float]]:
        """The most probable label of each sentence and its probability (``"none"`` included)."""
        found = self._probabilities(sentences)
        if found is None:
            return []
        probabilities, classes = found
        best = probabilities.argmax(axis=1)
        return [(classes[i], float(row[i])) for i, row in zip(best, probabilities)]

    def margins(self, sentences: Sequence[str]) -> list[float]:
        """For each sentence, how sure the model is: the probability of its most probable class
        minus that of the second (0: torn between two, 1: certain)."""
        found = self._probabilities(sentences)
        if found is None:
            return []
        probabilities = found[0]
        if probabilities.shape[1] < 2:
            return [1.0] * len(sentences)
        probabilities.sort(axis=1)
        return [float(x) for x in probabilities[:, -1] - probabilities[:, -2]]


# ------------------------------------------------------------------------------------------------
# Training data from a project


def sentence_labels(segments: Segments, spans: Iterable[tuple[int, int, str]], complete: bool
                    ) -> list[tuple[int, int, str]]:
    """``(start, end, label)`` of each sentence one annotator's ``spans`` label (see the module
    docstring); ``complete`` when the annotator marked the document done. Sentences the rule
    leaves out are not returned."""
    spans = [(s, e, label) for s, e, label in spans if e > s]
    last_start = max((s for s, _, _ in spans), default=None)
    out: list[tuple[int, int, str]] = []
    for s_start, s_end in segments.sentences():
        cover: Counter[str] = Counter()
        touched = False
        for start, end, label in spans:
            overlap = min(end, s_end) - max(start, s_start)
            if overlap > 0:
                touched = True
                cover[label] = max(cover[label], overlap)
        if touched:
            ranked = cover.most_common(2)
            share = ranked[0][1]
            if 2 * share >= s_end - s_start and (len(ranked) == 1 or ranked[1][1] < share):
                out.append((s_start, s_end, ranked[0][0]))
        elif complete or (last_start is not None and s_end <= last_start):
            out.append((s_start, s_end, NONE))
    return out


def _document_examples(project: Project, annotator: str | None) -> Iterable[tuple[str, str, bool]]:
    """(sentence text, label, labelled) for every sentence the rule keeps, document by document."""
    for record in project.records():
        done = set(record.done_by())
        people = {s.annotator for s in record.spans} | done
        if annotator is not None:
            people &= {annotator}
        text = record.text
        if not people or not text:
            continue
        segments = Segments(text)
        for person in sorted(people):
            mine = [s.key for s in record.spans if s.annotator == person]
            for start, end, label in sentence_labels(segments, mine, person in done):
                yield text[start:end], label, label != NONE


def training_examples(project: Project, annotator: str | None = None) -> list[tuple[str, str]]:
    """``(sentence text, label)`` pairs from the documents ``annotator`` labelled or marked done
    (every annotator's, each on their own, when ``annotator`` is None)."""
    return [(text, label) for text, label, _ in _document_examples(project, annotator)]


def ready(project: Project, annotator: str | None, threshold: int = MIN_LABELLED_SENTENCES) -> bool:
    """Whether ``annotator`` has labelled at least ``threshold`` sentences (not counting
    ``"none"``) and the examples hold at least two labels, so :func:`train` can run."""
    labelled = 0
    classes: set[str] = set()
    for _text, label, is_labelled in _document_examples(project, annotator):
        labelled += is_labelled
        classes.add(label)
        if labelled >= threshold and len(classes) >= 2:
            return True
    return False


def train(project: Project, annotator: str | None = None, **options: Any) -> SentenceModel:
    """A model fitted on :func:`training_examples` (``options`` go to :class:`SentenceModel`).
    Safe to call from a background thread."""
    return SentenceModel(**options).fit(training_examples(project, annotator))


def suggest(model: SentenceModel, text: str, segments: Segments, labels: Iterable[str] | None = None,
            min_confidence: float = 0.6) -> list[Suggestion]:
    """One suggestion per sentence the model gives a label (not ``"none"``) of ``labels`` with at
    least ``min_confidence``, with ``source="model:linear"`` and the probability as confidence."""
    allowed = set(labels) if labels is not None else None
    sentences = segments.sentences()
    predictions = model.predict([text[s:e] for s, e in sentences])
    out: list[Suggestion] = []
    for (start, end), (label, probability) in zip(sentences, predictions):
        if label == NONE or probability < min_confidence:
            continue
        if allowed is not None and label not in allowed:
            continue
        out.append(Suggestion(start, end, label, SOURCE, round(probability, 4)))
    return out


def merge(rule_suggestions: Iterable[Suggestion], model_suggestions: Iterable[Suggestion]
          ) -> list[Suggestion]:
    """The rules' suggestions, plus the model's on text no rule suggestion overlaps.

    Rules are precise where they fire (boilerplate, quotation marks) and the model is a guess
    over whole sentences, so a model suggestion on a sentence a rule already speaks for is mostly
    one more wrong suggestion to reject (bench/bench_suggest.py measures both ways)."""
    rules = sorted(rule_suggestions, key=lambda s: (s.start, s.end, s.label))
    spans = [(s.start, s.end) for s in rules]
    extra = [p for p in model_suggestions if not any(a < p.end and p.start < b for a, b in spans)]
    return sorted([*rules, *extra], key=lambda s: (s.start, s.end, s.label))

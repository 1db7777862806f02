"""Learned suggestions in the app: a model trained on this annotator's own labels.

The model lives in a process of its own (``ModelProcess``: no GIL shared with the keys, and no
scikit-learn in the app's memory). It is trained once the annotator's spans could be enough
(``model_threshold`` in config.toml) and again after every ``RETRAIN_EVERY`` new labels; it only
suggests where no rule fires, and only when fairly sure. Every call here blocks: the app makes
them from worker threads. A broken model never breaks labelling: any failure means no model.
"""

from __future__ import annotations

from ..core.store import Project
from ..core.suggest import learned
from ..core.suggest.model_process import ModelProcess
from ..core.suggest.suggestion import Suggestion

MODEL_CONFIDENCE = 0.8  # bench/bench_suggest.py: 2.67 keys a span at 0.8, 3.14 at 0.6
RETRAIN_EVERY = 25  # new labels between two trainings


class LearnedSuggestions:
    def __init__(self, project: Project, annotator: str) -> None:
        self.project = project
        self.annotator = annotator
        self.process = ModelProcess()
        self.ready = False  # a model was trained: its suggestions join the rules'
        self._labels_since_training = 0

    def worth_training(self, spans: int) -> bool:
        """Whether ``spans`` of this annotator could be enough to train on (a cheap count from
        the article list; the model's process checks the labels themselves)."""
        return spans >= self.project.config.model_threshold

    def count_label(self) -> bool:
        """One more label; True when enough came since the last training to train again."""
        self._labels_since_training += 1
        if self._labels_since_training < RETRAIN_EVERY:
            return False
        self._labels_since_training = 0
        return True

    def train(self) -> bool:
        """(Re)train on this annotator's labels; False when too few, or on any failure."""
        try:
            return self.process.train(str(self.project.root), self.annotator,
                                      self.project.config.model_threshold)
        except Exception:  # noqa: BLE001 - a broken model must never break labelling
            return False

    def suggest(self, text: str, rule_suggestions: list[Suggestion]) -> list[Suggestion] | None:
        """The rules' suggestions plus the model's where no rule fires; None on any failure."""
        try:
            guesses = self.process.suggest(text, list(self.project.config.label_names),
                                           MODEL_CONFIDENCE)
        except Exception:  # noqa: BLE001
            return None
        return learned.merge(rule_suggestions, guesses)

    def close(self) -> None:
        self.process.close()

"""A proposed span: a rule's or the model's suggestion, or in review another annotator's span.

Kept apart from the rules so that opening the app does not compile every rule's regex first.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    start: int
    end: int
    label: str
    source: str  # "rule:<name>" or "model:<name>"
    confidence: float = 1.0

    @property
    def key(self) -> tuple[int, int, str]:
        return self.start, self.end, self.label

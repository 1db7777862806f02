"""What suggestions are: a span, a relation or an attribute offered for acceptance, by a rule, the
learned model, a model server, or in review another annotator.

Kept apart from the rules so that opening the app does not compile every rule's regex first.
"""

from __future__ import annotations

from dataclasses import dataclass

SpanKey = tuple[int, int, str]  # start, end, label


@dataclass(frozen=True)
class Suggestion:
    """A span: ``a`` makes it the annotator's."""

    start: int
    end: int
    label: str
    source: str  # "rule:<name>", "model:<name>", "ml:<version>", or in review "by <annotators>"
    confidence: float = 1.0

    @property
    def key(self) -> SpanKey:
        return self.start, self.end, self.label


@dataclass(frozen=True)
class RelationSuggestion:
    """A relation between two spans, given by their keys: accepting it makes any end the
    annotator does not have yet a span of theirs, then links them (one change, one undo)."""

    head: SpanKey
    child: SpanKey
    label: str
    source: str
    confidence: float = 1.0

    @property
    def key(self) -> tuple[SpanKey, SpanKey, str]:
        return self.head, self.child, self.label

    @property
    def rejection_target(self) -> str:
        """How a rejection of it is told apart from a rejection of its head span."""
        start, end, label = self.child
        return f"relation:{self.label}:{start}:{end}:{label}"

    def covers(self, offset: int) -> bool:
        return self.head[0] <= offset < self.head[1] or self.child[0] <= offset < self.child[1]


@dataclass(frozen=True)
class AttributeSuggestion:
    """A value for an attribute of a span (in review: what annotators gave that span)."""

    span: SpanKey
    name: str
    value: str | bool
    source: str
    confidence: float = 1.0

    @property
    def key(self) -> tuple[SpanKey, str, str | bool]:
        return self.span, self.name, self.value

    @property
    def rejection_target(self) -> str:
        return f"attribute:{self.name}={self.value}"

    def covers(self, offset: int) -> bool:
        return self.span[0] <= offset < self.span[1]


LinkSuggestion = RelationSuggestion | AttributeSuggestion

"""How well annotators agree: span F1, Cohen's kappa and Krippendorff's alpha.

Formulas (also in the README):

* **Span F1** between annotators A and B, over the documents both annotated. *Exact*: a span
  matches when the other has one with the same start, end and label; F1 = 2·matches / (|A| + |B|).
  *Overlap*: a span of A is found when B has a span of the same label sharing at least one
  character, and the other way round; P = found(B in A) / |B|, R = found(A in B) / |A|,
  F1 = 2PR / (P + R). Per label, only spans of that label count.
* **Cohen's kappa** for a pair, over tokens of the documents both annotated: each token's category
  is the set of labels whose spans cover it (per label: covered or not).
  κ = (p_o − p_e) / (1 − p_e), p_o the share of tokens both put in the same category, p_e = Σ_k
  p_A(k)·p_B(k). Undefined (None) when p_e = 1.
* **Krippendorff's alpha**, nominal, over the same tokens, any number of annotators, documents
  missing some annotators allowed: α = 1 − D_o / D_e from the coincidence matrix o_ck of values
  pairable within a unit: α = 1 − (n − 1) · Σ_{c≠k} o_ck / Σ_{c≠k} n_c·n_k, n = Σ n_c.
  Units annotated by a single annotator are not pairable and do not count.

Tokens are ``\\w+`` runs and single other non-space characters; a token is covered by a span when
its characters lie inside it, in part.

Relations, attributes and article labels (for each pair of annotators, over the documents both
annotated):

* **Relation F1**. *Exact*: a relation matches when the other has one of the same label whose
  head and child spans have the same start, end and label; F1 = 2·matches / (|A| + |B|).
  *Overlap*: a relation is found when the other has one of the same label whose head overlaps its
  head and whose child overlaps its child (same span label, a shared character); P, R and F1 as
  for spans.
* **Attribute kappa**, per attribute: Cohen's kappa over the spans both annotators marked
  identically (same start, end and label) whose label has the attribute; a span's category is its
  value, or "unset".
* **Article-label kappa**, per group: Cohen's kappa over the documents where at least one of the
  two chose a value in the group; the category is the set of values chosen (none counts as a
  category). **Article-label alpha**, per group: Krippendorff's alpha over the documents, each
  document's values being those of the annotators who chose in the group.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import TYPE_CHECKING, Any

from .model import CONTROL, GOLD

if TYPE_CHECKING:
    from .schema import Schema
    from .store import Project

SpanTuple = tuple[int, int, str]
_TOKEN = re.compile(r"\w+|[^\w\s]")


def simple_tokens(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOKEN.finditer(text)]


RelationTuple = tuple[SpanTuple, SpanTuple, str]  # head span, child span, relation label


@dataclass(frozen=True)
class AgreementDoc:
    """One document and every annotator's spans on it (an annotator with no spans but a done
    status is present with an empty list: they read it and found nothing), and their relations,
    span attributes (by span) and article labels (by group)."""

    id: str
    text: str
    spans: dict[str, list[SpanTuple]]
    relations: dict[str, list[RelationTuple]] = field(default_factory=dict)
    attributes: dict[str, dict[SpanTuple, dict[str, str | bool]]] = field(default_factory=dict)
    article_labels: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class RelationScore:
    a: str
    b: str
    label: str | None  # None = every relation type
    documents: int
    exact_f1: float | None
    overlap_f1: float | None


@dataclass(frozen=True)
class KappaScore:
    """Cohen's kappa of a pair over ``items`` (spans for an attribute, documents for a group)."""

    a: str
    b: str
    name: str  # the attribute, or the article-label group
    items: int
    kappa: float | None


@dataclass(frozen=True)
class PairScore:
    a: str
    b: str
    label: str | None  # None = every label
    documents: int
    exact_f1: float | None
    overlap_f1: float | None
    kappa: float | None


@dataclass(frozen=True)
class DocScore:
    id: str
    annotators: tuple[str, ...]
    exact_f1: float | None
    overlap_f1: float | None
    alpha: float | None


@dataclass
class AgreementReport:
    annotators: list[str]
    labels: list[str]
    pairs: list[PairScore] = field(default_factory=list)
    alpha: dict[str | None, float | None] = field(default_factory=dict)
    documents: list[DocScore] = field(default_factory=list)
    relations: list[RelationScore] = field(default_factory=list)
    attributes: list[KappaScore] = field(default_factory=list)
    article_labels: list[KappaScore] = field(default_factory=list)
    article_alpha: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "annotators": self.annotators,
            "labels": self.labels,
            "pairs": [vars(p) for p in self.pairs],
            "alpha": {("*" if k is None else k): v for k, v in self.alpha.items()},
            "documents": [vars(d) for d in self.documents],
            "relations": [vars(r) for r in self.relations],
            "attributes": [vars(k) for k in self.attributes],
            "article_labels": [vars(k) for k in self.article_labels],
            "article_labels_alpha": self.article_alpha,
        }


# ------------------------------------------------------------------ primitives
def exact_counts(a: Sequence[SpanTuple], b: Sequence[SpanTuple]) -> tuple[int, int, int]:
    """(matches, |a|, |b|) with exact matching; duplicates count once each."""
    sa, sb = set(a), set(b)
    if len(sa) == len(a) and len(sb) == len(b):  # no duplicates (the usual case): sets suffice
        return len(sa & sb), len(a), len(b)
    ca, cb = Counter(a), Counter(b)
    return sum((ca & cb).values()), len(a), len(b)


def overlap_counts(a: Sequence[SpanTuple], b: Sequence[SpanTuple]) -> tuple[int, int, int, int]:
    """(spans of a found in b, |a|, spans of b found in a, |b|), same label and shared characters."""

    def found(xs: Sequence[SpanTuple], ys: Sequence[SpanTuple]) -> int:
        return sum(1 for s, e, lab in xs if any(lab == l2 and s < e2 and s2 < e for s2, e2, l2 in ys))

    return found(a, b), len(a), found(b, a), len(b)


def f1_exact(matches: int, na: int, nb: int) -> float | None:
    return 2 * matches / (na + nb) if na + nb else None


def f1_overlap(found_a: int, na: int, found_b: int, nb: int) -> float | None:
    if not na and not nb:
        return None
    precision = found_b / nb if nb else 0.0
    recall = found_a / na if na else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two equally long label sequences."""
    n = len(first)
    if n == 0 or n != len(second):
        return None
    observed = sum(1 for x, y in zip(first, second) if x == y) / n
    ca, cb = Counter(first), Counter(second)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def krippendorff_alpha_nominal(units: Iterable[Sequence[Hashable]]) -> float | None:
    """Nominal alpha; each unit is the values the annotators who rated it gave (missing left out)."""
    coincidence: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for values in units:
        add_unit(coincidence, values)
    return alpha_of(coincidence)


def add_unit(coincidence: dict[tuple[Hashable, Hashable], float], values: Sequence[Hashable],
             times: int = 1) -> None:
    """Add a unit's values (``times`` such units) to a coincidence matrix (see
    :func:`krippendorff_alpha_nominal`)."""
    m = len(values)
    if m < 2:
        return
    counts = Counter(values)
    for c, nc in counts.items():
        for k, nk in counts.items():
            pairs = nc * (nk - 1) if c == k else nc * nk
            if pairs:
                coincidence[(c, k)] += times * pairs / (m - 1)


def alpha_of(coincidence: dict[tuple[Hashable, Hashable], float]) -> float | None:
    """Nominal alpha of a coincidence matrix built with :func:`add_unit`."""
    totals: Counter = Counter()
    for (c, _k), value in coincidence.items():
        totals[c] += value
    n = sum(totals.values())
    if n <= 1:
        return None
    disagree_observed = sum(v for (c, k), v in coincidence.items() if c != k)
    disagree_expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if disagree_expected == 0:
        return None  # one category only: agreement is not measurable
    return 1 - (n - 1) * disagree_observed / disagree_expected


def kappa_of(pairs: Counter[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa from the counts of (first's value, second's value) pairs: what
    :func:`cohen_kappa` gives for the two sequences."""
    n = sum(pairs.values())
    if n == 0:
        return None
    observed = sum(v for (x, y), v in pairs.items() if x == y) / n
    ca: Counter[Hashable] = Counter()
    cb: Counter[Hashable] = Counter()
    for (x, y), v in pairs.items():
        ca[x] += v
        cb[y] += v
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def token_runs(spans: dict[str, list[SpanTuple]], tokens: Sequence[tuple[int, int]],
               ) -> list[tuple[int, dict[str, frozenset[str]]]]:
    """The tokens as runs of consecutive tokens that every annotator labelled alike: (how many
    tokens, annotator -> the labels of their spans covering them). A document of 500 tokens and
    ten spans is ~20 runs, so the token-level figures cost per run, not per token."""
    flat = sorted((s, e, label, name) for name, own in spans.items() for s, e, label in own)
    runs: list[tuple[int, dict[str, frozenset[str]]]] = []
    active: list[tuple[int, int, str, str]] = []
    following = 0
    ends_first = None  # the soonest end among the active spans
    length = 0
    covering: dict[str, frozenset[str]] = {}
    for ts, te in sorted(tokens):
        changed = False
        while following < len(flat) and flat[following][0] < te:
            active.append(flat[following])
            following += 1
            changed = True
        if ends_first is not None and ends_first <= ts or changed:
            kept = [span for span in active if span[1] > ts]
            changed = changed or len(kept) != len(active)
            active = kept
            ends_first = min((span[1] for span in active), default=None)
        if changed and length:
            runs.append((length, covering))
            length = 0
        if not length:
            covering = {name: frozenset(label for _, _, label, who in active if who == name)
                        for name in spans}
        length += 1
    if length:
        runs.append((length, covering))
    return runs


def relation_exact_counts(a: Sequence[RelationTuple], b: Sequence[RelationTuple]
                          ) -> tuple[int, int, int]:
    return exact_counts(a, b)  # type: ignore[arg-type]  # tuples match exactly or not


def relation_overlap_counts(a: Sequence[RelationTuple], b: Sequence[RelationTuple]
                            ) -> tuple[int, int, int, int]:
    """(relations of a found in b, |a|, relations of b found in a, |b|): same relation label,
    head overlapping head and child overlapping child (same span labels, a shared character)."""

    def touches(x: SpanTuple, y: SpanTuple) -> bool:
        return x[2] == y[2] and x[0] < y[1] and y[0] < x[1]

    def found(xs: Sequence[RelationTuple], ys: Sequence[RelationTuple]) -> int:
        return sum(1 for head, child, label in xs
                   if any(label == l2 and touches(head, h2) and touches(child, c2) for h2, c2, l2 in ys))

    return found(a, b), len(a), found(b, a), len(b)


# ----------------------------------------------------------------- the report
def compute_agreement(
    docs: Iterable[AgreementDoc], labels: Sequence[str],
    tokenize: Callable[[str], list[tuple[int, int]]] = simple_tokens, schema: Schema | None = None,
) -> AgreementReport:
    """Every figure of the report in one pass over ``docs``, holding one document's tokens at a
    time (10k documents of five annotators each once took 8 GB: every token's categories).
    Tokens count by runs (see :func:`token_runs`), and the token-level figures (kappa, alpha)
    are made at the end from how often each profile (who, and what each of them gave) occurred."""
    scopes: list[str | None] = [None, *labels]
    # (a, b, scope) -> exact counts, overlap counts; (a, b) -> documents
    exact: dict[tuple[str, str, str | None], list[int]] = defaultdict(lambda: [0, 0, 0])
    overlap: dict[tuple[str, str, str | None], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    shared: Counter[tuple[str, str]] = Counter()
    profiles: dict[str | None, Counter[tuple[tuple[str, ...], tuple[Hashable, ...]]]] = {
        scope: Counter() for scope in scopes}
    kept: list[AgreementDoc] = []  # without their text, for relations, attributes, article labels
    documents: list[DocScore] = []
    for doc in docs:
        if len(doc.spans) < 2:
            continue
        kept.append(replace(doc, text=""))
        names = tuple(sorted(doc.spans))
        runs = token_runs(doc.spans, tokenize(doc.text))
        pairs = list(combinations(names, 2))
        for a, b in pairs:
            shared[(a, b)] += 1
        scores: list[tuple[float, float]] = []  # this document's, pair by pair
        for scope in scopes:
            in_scope = {a: [s for s in spans if scope is None or s[2] == scope]
                        for a, spans in doc.spans.items()}
            for a, b in pairs:
                key = (a, b, scope)
                e = exact_counts(in_scope[a], in_scope[b])
                o = overlap_counts(in_scope[a], in_scope[b])
                exact[key] = [x + y for x, y in zip(exact[key], e)]
                overlap[key] = [x + y for x, y in zip(overlap[key], o)]
                if scope is None:
                    scores.append((_or_one(f1_exact(*e)), _or_one(f1_overlap(*o))))
            # Per token: the labels covering it, or for one label whether it is covered.
            counted = profiles[scope]
            for length, covering in runs:
                if scope is None:
                    counted[(names, tuple(covering[a] for a in names))] += length
                else:
                    counted[(names, tuple(scope in covering[a] for a in names))] += length
        mine: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
        for length, covering in runs:
            add_unit(mine, [covering[a] for a in names], length)
        documents.append(DocScore(doc.id, names, sum(e for e, _ in scores) / len(scores),
                                  sum(o for _, o in scores) / len(scores), alpha_of(mine)))
    annotators = sorted({a for d in kept for a in d.spans})
    report = AgreementReport(annotators=annotators, labels=list(labels))
    confusion: dict[tuple[str, str, str | None], Counter[tuple[Hashable, Hashable]]] = (
        defaultdict(Counter))
    for scope in scopes:
        coincidence: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
        for (names, values), times in profiles[scope].items():
            add_unit(coincidence, values, times)
            for (i, a), (j, b) in combinations(enumerate(names), 2):
                confusion[(a, b, scope)][(values[i], values[j])] += times
        report.alpha[scope] = alpha_of(coincidence)
    for a, b in combinations(annotators, 2):
        if not shared[(a, b)]:
            continue
        for scope in scopes:
            key = (a, b, scope)
            report.pairs.append(PairScore(a, b, scope, shared[(a, b)], f1_exact(*exact[key]),
                                          f1_overlap(*overlap[key]), kappa_of(confusion[key])))
    report.documents = sorted(documents, key=lambda d: (
        d.exact_f1 if d.exact_f1 is not None else 1.0, d.id))
    _schema_agreement(report, kept, schema)
    return report


def _or_one(score: float | None) -> float:
    return 1.0 if score is None else score  # both found nothing: they agree


def _schema_agreement(report: AgreementReport, docs: list[AgreementDoc], schema: Schema | None,
                      ) -> None:
    """Relation F1, attribute kappa and article-label kappa and alpha (see the module docstring)."""
    relation_names = sorted({r[2] for d in docs for rs in d.relations.values() for r in rs}
                            | {r.name for r in (schema.relations if schema else ())})
    attribute_labels: dict[str, set[str]] = defaultdict(set)
    for kind in schema.attributes if schema else ():
        attribute_labels[kind.name].update(kind.labels)
    for doc in docs:
        for by_span in doc.attributes.values():
            for span, values in by_span.items():
                for name in values:
                    if schema is None or schema.attribute(name) is None:
                        attribute_labels[name].add(span[2])
    groups = sorted({g for d in docs for labels in d.article_labels.values() for g in labels}
                    | {g.group for g in (schema.article_labels if schema else ())})
    if not (relation_names or attribute_labels or groups):
        return
    for a, b in combinations(report.annotators, 2):
        shared = [d for d in docs if a in d.spans and b in d.spans]
        if not shared:
            continue
        for name in ([None, *relation_names] if relation_names else []):
            exact, overlap = [0, 0, 0], [0, 0, 0, 0]
            for doc in shared:
                ra = [r for r in doc.relations.get(a, []) if name is None or r[2] == name]
                rb = [r for r in doc.relations.get(b, []) if name is None or r[2] == name]
                exact = [x + y for x, y in zip(exact, relation_exact_counts(ra, rb))]
                overlap = [x + y for x, y in zip(overlap, relation_overlap_counts(ra, rb))]
            report.relations.append(RelationScore(a, b, name, len(shared), f1_exact(*exact),
                                                  f1_overlap(*overlap)))
        for name, labels in sorted(attribute_labels.items()):
            seq_a: list[Hashable] = []
            seq_b: list[Hashable] = []
            for doc in shared:
                both = set(doc.spans[a]) & set(doc.spans[b])
                for span in sorted(both):
                    if span[2] in labels:
                        seq_a.append(doc.attributes.get(a, {}).get(span, {}).get(name, "unset"))
                        seq_b.append(doc.attributes.get(b, {}).get(span, {}).get(name, "unset"))
            report.attributes.append(KappaScore(a, b, name, len(seq_a), cohen_kappa(seq_a, seq_b)))
        for group in groups:
            seq_a, seq_b = [], []
            for doc in shared:
                va = doc.article_labels.get(a, {}).get(group)
                vb = doc.article_labels.get(b, {}).get(group)
                if va is None and vb is None:
                    continue
                seq_a.append(frozenset(va or ()))
                seq_b.append(frozenset(vb or ()))
            report.article_labels.append(KappaScore(a, b, group, len(seq_a), cohen_kappa(seq_a, seq_b)))
    for group in groups:
        units = [[frozenset(labels[group]) for labels in doc.article_labels.values() if group in labels]
                 for doc in docs]
        report.article_alpha[group] = krippendorff_alpha_nominal(units)


def _comparable(row: dict[str, Any]) -> bool:
    """Whether a document's summary row (see summary.py) names two annotators who labelled it
    or marked it done: only those documents say anything about agreement."""
    names = 0
    for name, own in row["annotators"].items():
        if name not in (GOLD, CONTROL) and (own.get("labels") or own.get("article_labels")
                                            or own.get("status") == "done"):
            names += 1
    return names >= 2


def documents_for_agreement(project: Project, label: str | None = None,
                            rows: Iterable[tuple[str, dict[str, Any]]] | None = None,
                            ) -> Iterable[AgreementDoc]:
    """Each document two or more annotators labelled (spans or article labels) or marked done
    (not the gold layer, nor a control's known answers), with their spans (of ``label`` only,
    when given), relations, span attributes and article labels. Only those documents are read:
    the summary index names them, so 100,000 documents done by one annotator each cost a
    stat apiece, not a read. ``rows``: as in ``stats.project_stats``."""
    for doc_id, row in project.current_summary_rows() if rows is None else rows:
        if not _comparable(row):
            continue
        record = project.record(doc_id)
        names = (set(record.done_by()) | {s.annotator for s in record.spans}
                 | {a.annotator for a in record.article_labels}) - {GOLD, CONTROL}
        spans: dict[str, list[SpanTuple]] = {name: [] for name in sorted(names)}
        attributes: dict[str, dict[SpanTuple, dict[str, str | bool]]] = defaultdict(dict)
        by_id: dict[str, SpanTuple] = {}
        for span in record.spans:
            by_id[span.id] = span.key
            if span.annotator in names:
                if label is None or span.label == label:
                    spans[span.annotator].append(span.key)
                if span.attributes:
                    attributes[span.annotator][span.key] = dict(span.attributes)
        relations: dict[str, list[RelationTuple]] = defaultdict(list)
        for relation in record.relations:
            if relation.annotator in names and relation.head in by_id and relation.child in by_id:
                relations[relation.annotator].append(
                    (by_id[relation.head], by_id[relation.child], relation.label))
        article: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
        for chosen in record.article_labels:
            if chosen.annotator in names:
                article[chosen.annotator][chosen.group] = chosen.values
        yield AgreementDoc(record.id, record.text, spans, dict(relations), dict(attributes),
                           dict(article))


def format_score(value: float | None) -> str:
    """A figure as the tables show it: three decimals, or n/a where it is undefined."""
    return "n/a" if value is None else f"{value:.3f}"


def agreement_markdown(project: Project) -> str | None:
    """A few Markdown lines for the dataset card, when two or more annotators labelled the same
    texts (None otherwise)."""
    report = compute_agreement(documents_for_agreement(project), project.config.label_names,
                               schema=project.config.schema)
    overall = [p for p in report.pairs if p.label is None]
    if not overall:
        return None
    lines = ["| annotators | documents | span F1 exact | span F1 overlap | token kappa |",
             "| --- | --- | --- | --- | --- |"]
    for p in overall:
        lines.append(f"| {p.a} / {p.b} | {p.documents} | {format_score(p.exact_f1)} "
                     f"| {format_score(p.overlap_f1)} | {format_score(p.kappa)} |")
    lines.append("")
    lines.append("Krippendorff's alpha (nominal, tokens, all labels): "
                 f"{format_score(report.alpha.get(None))}")
    relations = [r for r in report.relations if r.label is None]
    if relations:
        lines += ["", "Relations (span F1 of their ends and label):", "",
                  "| annotators | documents | relation F1 exact | relation F1 overlap |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| {r.a} / {r.b} | {r.documents} | {format_score(r.exact_f1)} "
                  f"| {format_score(r.overlap_f1)} |" for r in relations]
    scores = [("attribute", k) for k in report.attributes] + [("article labels", k)
                                                              for k in report.article_labels]
    if scores:
        lines += ["", "| annotators | kind | name | items | Cohen's kappa |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {k.a} / {k.b} | {kind} | {k.name} | {k.items} | {format_score(k.kappa)} |"
                  for kind, k in scores]
    for group, value in report.article_alpha.items():
        lines.append(f"\nKrippendorff's alpha of the article labels {group}: {format_score(value)}")
    return "\n".join(lines)

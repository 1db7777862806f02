"""Relations, span attributes and article labels: config, store and session (no UI)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import make_project
from tui_reader.core.config import load_config
from tui_reader.core.errors import InputError, StoreError
from tui_reader.core.session import AnnotationSession
from tui_reader.core.store import Project

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEXT = "“We will win,” said Ana Ruiz. The minister disagreed. Critics called it naive."
QUOTE = (0, TEXT.index(" said"))
SOURCE = (TEXT.index("Ana"), TEXT.index("."))
MINISTER = (TEXT.index("The minister"), TEXT.index(" disagreed"))


def _project(tmp_path: Path) -> Project:
    return make_project(tmp_path, {"d": TEXT, "e": "Second article."})


# ------------------------------------------------------------------------------------- config
def test_a_new_project_gets_the_attribution_schema(tmp_path):
    config = _project(tmp_path).config
    assert config.label_names == ("claim", "quote", "opinion", "boilerplate", "source")
    assert config.label("source").key == "5"
    (relation,) = config.schema.relations
    assert (relation.name, relation.heads, relation.children, relation.directed) == (
        "attributed_to", ("quote", "claim", "opinion"), ("source",), True)
    (attribute,) = config.schema.attributes
    assert (attribute.name, attribute.labels, attribute.kind, attribute.values) == (
        "kind", ("quote",), "choice", ("direct", "indirect"))
    (group,) = config.schema.article_labels
    assert (group.group, group.values, group.multiple) == (
        "genre", ("news report", "opinion piece", "press release", "other"), False)


def test_a_project_made_by_version_0_1_opens_with_nothing_lost(tmp_path):
    root = tmp_path / "old"
    shutil.copytree(FIXTURES / "v0.1-project", root)
    config_before = (root / "config.toml").read_bytes()
    project = Project.open(root)
    assert project.config.label_names == ("claim", "quote", "opinion", "boilerplate")
    assert project.config.schema.relations == () and project.config.schema.article_labels == ()
    first, second = (project.record(d.id) for d in project.documents())
    headline = first.text.index("\n")
    assert [(s.start, s.end, s.label, s.annotator, s.note) for s in first.spans] == [
        (0, headline, "claim", "alice", "checked"), (0, headline, "quote", "bob", "a note")]
    assert first.spans[0].text == first.text[:headline]
    assert first.status_of("alice") == "done" and second.status_of("bob") == "skipped"
    assert [r.label for r in first.rejections_of("alice")] == ["opinion"]
    assert first.seconds == {"alice": 42.5}
    assert [(s.label, s.annotator, s.source) for s in second.spans] == [
        ("boilerplate", "gold", "review:rita:by bob")]
    # Working on it keeps its files readable and its config as it was.
    project.add_span(second.id, 6, 11, "claim", "alice")
    assert len(Project.open(root).record(second.id).spans) == 2
    assert (root / "config.toml").read_bytes() == config_before


@pytest.mark.parametrize(("entry", "message"), [
    ('[[relations]]\nname = "x"\nheads = ["quote"]\nchildren = ["nobody"]\n', "names 'nobody'"),
    ('[[relations]]\nname = "x"\nheads = ["quote"]\nchildren = ["claim"]\nkey = "c"\n', "one key"),
    ('[[attributes]]\nname = "a"\nlabels = ["quote"]\ntype = "number"\n', "type must be one of"),
    ('[[attributes]]\nname = "a"\nlabels = ["quote"]\n', "non-empty list of values"),
    ('[[article_labels]]\ngroup = "g"\nvalues = ["x", "x"]\n', "a value twice"),
    ('[[article_labels]]\ngroup = "g"\nvalues = ["x"]\ncolour = "red"\n', "unknown setting 'colour'"),
])
def test_bad_schema_entries_are_refused_naming_the_problem(tmp_path, entry, message):
    path = tmp_path / "config.toml"
    path.write_text('[[labels]]\nname = "quote"\nkey = "2"\n[[labels]]\nname = "claim"\nkey = "1"\n'
                    + entry, encoding="utf-8")
    with pytest.raises(StoreError, match=message) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_label_on_a_key_the_app_now_uses_is_refused_clearly(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[labels]]\nname = "topic"\nkey = "t"\n', encoding="utf-8")
    with pytest.raises(StoreError, match="label 'topic' needs one key that the app does not use"):
        load_config(path)


# -------------------------------------------------------------------------------------- store
def test_relations_are_checked_against_the_schema(tmp_path):
    project = _project(tmp_path)
    quote = project.add_span("d", *QUOTE, "quote", "ana")
    source = project.add_span("d", *SOURCE, "source", "ana")
    claim = project.add_span("d", *MINISTER, "claim", "ana")
    bos = project.add_span("d", *SOURCE, "source", "bo")
    relation = project.add_relation("d", quote.id, source.id, "attributed_to", "ana")
    assert Project.open(project.root).record("d").relations == (relation,)
    for head, child, label, who, problem in [
        (source.id, quote.id, "attributed_to", "ana", "does not go from source to quote"),
        (quote.id, claim.id, "attributed_to", "ana", "does not go from quote to claim"),
        (quote.id, bos.id, "attributed_to", "ana", "both spans must be its annotator's"),
        (quote.id, source.id, "said_by", "ana", "unknown relation 'said_by'"),
        (quote.id, "nope", "attributed_to", "ana", "one of its spans is not there"),
    ]:
        with pytest.raises(InputError, match=problem):
            project.add_relation("d", head, child, label, who)
    assert Project.open(project.root).record("d").relations == (relation,)


def test_deleting_or_relabelling_a_span_takes_its_relations_along(tmp_path):
    project = _project(tmp_path)
    quote = project.add_span("d", *QUOTE, "quote", "ana")
    source = project.add_span("d", *SOURCE, "source", "ana")
    project.add_relation("d", quote.id, source.id, "attributed_to", "ana")
    project.update_span("d", quote.id, label="claim")  # claims may be attributed too
    assert len(project.record("d").relations) == 1
    project.update_span("d", quote.id, label="boilerplate")  # boilerplate may not
    assert project.record("d").relations == ()
    again = project.add_span("d", *MINISTER, "opinion", "ana")
    project.add_relation("d", again.id, source.id, "attributed_to", "ana")
    project.remove_span("d", source.id)
    assert project.record("d").relations == ()


def test_attributes_are_checked_and_follow_the_label(tmp_path):
    project = _project(tmp_path)
    quote = project.add_span("d", *QUOTE, "quote", "ana")
    saved = project.set_attribute("d", quote.id, "kind", "direct")
    assert Project.open(project.root).record("d").spans[0].attributes == {"kind": "direct"}
    assert saved.attributes == {"kind": "direct"}
    with pytest.raises(InputError, match="kind takes one of direct, indirect"):
        project.set_attribute("d", quote.id, "kind", "verbatim")
    with pytest.raises(InputError, match="no attribute 'negated' for a quote span"):
        project.set_attribute("d", quote.id, "negated", True)
    project.update_span("d", quote.id, label="claim")  # kind is a quote's attribute
    assert project.record("d").spans[0].attributes == {}


def test_article_labels_one_value_or_many(tmp_path):
    project = _project(tmp_path)
    assert project.set_article_labels("d", "ana", "genre", ["news report"]) == ()
    assert project.set_article_labels("d", "bo", "genre", ["other"]) == ()
    record = Project.open(project.root).record("d")
    assert record.article_labels_of("ana") == {"genre": ("news report",)}
    assert "bo" in record.annotators()
    with pytest.raises(InputError, match="one value at a time"):
        project.set_article_labels("d", "ana", "genre", ["news report", "other"])
    with pytest.raises(InputError, match="genre takes news report"):
        project.set_article_labels("d", "ana", "genre", ["satire"])
    with pytest.raises(InputError, match="unknown article label group 'topic'"):
        project.set_article_labels("d", "ana", "topic", ["x"])
    assert project.set_article_labels("d", "ana", "genre", []) == ("news report",)
    assert project.record("d").article_labels_of("ana") == {}


def test_notes_are_bounded(tmp_path):
    project = _project(tmp_path)
    span = project.add_span("d", *QUOTE, "quote", "ana")
    project.update_span("d", span.id, note="x" * 4096)
    with pytest.raises(InputError, match="at most 4,096 characters"):
        project.update_span("d", span.id, note="x" * 4097)
    with pytest.raises(InputError, match="at most 4,096"):
        project.add_span("d", *SOURCE, "source", "ana", note="y" * 5000)
    assert len(project.record("d").spans) == 1


# ------------------------------------------------------------------------------------ session
def test_connect_orients_by_the_schema_and_undo_restores_a_span_with_its_relation(tmp_path):
    project = _project(tmp_path)
    session = AnnotationSession(project, "ana")
    session.open("d")
    session.label("quote", *QUOTE)
    session.label("source", *SOURCE)
    quote, source = session.spans
    ((kind, head, child),) = session.relation_choices(source, quote)  # source chosen first
    assert (kind.name, head.id, child.id) == ("attributed_to", quote.id, source.id)
    assert session.relation_choices(quote, quote) == []
    change = session.connect(head, child, kind.name)
    assert change.describe() == "linked: attributed_to"
    assert session.connect(head, child, kind.name) is None  # already there
    (relation,) = Project.open(project.root).record("d").relations
    assert (relation.head, relation.child) == (quote.id, source.id)

    deleted = session.delete(source.id)
    assert "and 1 relation" in deleted.describe()
    assert Project.open(project.root).record("d").relations == () and session.relations == []
    session.undo()  # one u brings back the span and its relation
    back = Project.open(project.root).record("d")
    assert [s.id for s in back.spans] == [quote.id, source.id] and back.relations == (relation,)
    assert session.relations == [relation]
    session.redo()
    assert Project.open(project.root).record("d").relations == ()


def test_attribute_and_article_label_changes_undo(tmp_path):
    project = _project(tmp_path)
    session = AnnotationSession(project, "ana")
    session.open("d")
    session.label("quote", *QUOTE)
    (quote,) = session.spans
    session.set_attribute(quote.id, "kind", "indirect")
    assert session.set_attribute(quote.id, "kind", "indirect") is None
    assert Project.open(project.root).record("d").spans[0].attributes == {"kind": "indirect"}
    session.toggle_article_label("genre", "opinion piece")
    session.toggle_article_label("genre", "news report")  # single choice: replaces
    assert Project.open(project.root).record("d").article_labels_of("ana") == {
        "genre": ("news report",)}
    session.undo()
    session.undo()
    assert Project.open(project.root).record("d").article_labels_of("ana") == {}
    session.undo()
    assert Project.open(project.root).record("d").spans[0].attributes == {}
    assert session.spans[0].attributes == {}


# ------------------------------------------------------------------------------------ exports
def _annotated(tmp_path: Path) -> Project:
    """Two annotators who agree on the quote and its source and differ on the rest."""
    project = _project(tmp_path / "a")
    for name, kind, genre in (("ana", "direct", "news report"), ("bo", "direct", "opinion piece")):
        quote = project.add_span("d", *QUOTE, "quote", name)
        source = project.add_span("d", *SOURCE, "source", name)
        project.set_attribute("d", quote.id, "kind", kind)
        project.add_relation("d", quote.id, source.id, "attributed_to", name)
        project.set_article_labels("d", name, "genre", [genre])
    opinion = project.add_span("d", *MINISTER, "opinion", "bo")
    source = next(s for s in project.record("d").spans_of("bo") if s.label == "source")
    project.add_relation("d", opinion.id, source.id, "attributed_to", "bo")
    return project


def _native(project: Project) -> list[dict]:
    import io
    import json

    from tui_reader.core.formats.jsonl import export_records, write_jsonl

    out = io.BytesIO()
    write_jsonl(export_records(project), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_native_jsonl_carries_ids_relations_attributes_and_labels_and_reads_back_exactly(tmp_path):
    from tui_reader.core.importer import import_records

    project = _annotated(tmp_path)
    (record,) = _native(project)
    ids = {s["id"]: s for s in record["spans"]}
    assert len(ids) == 5
    assert {(ids[r["head"]]["label"], ids[r["child"]]["text"], r["annotator"])
            for r in record["relations"]} == {
        ("quote", "Ana Ruiz", "ana"), ("quote", "Ana Ruiz", "bo"), ("opinion", "Ana Ruiz", "bo")}
    assert [s.get("attributes") for s in record["spans"] if s["label"] == "quote"] == [
        {"kind": "direct"}, {"kind": "direct"}]
    assert record["labels"] == {"ana": {"genre": ["news report"]}, "bo": {"genre": ["opinion piece"]}}

    again = make_project(tmp_path / "b", {})
    report = import_records(again, [("x.jsonl:1", record)], "nobody")
    assert report.problems == [] and (report.spans_added, report.relations_added,
                                      report.article_labels_added) == (5, 3, 2)
    assert _native(again) == [record]


def test_gold_policies_vote_on_relations_attributes_and_labels(tmp_path):
    from tui_reader.core.formats.dataset import ExportFilter, export_docs, parse_gold

    project = _annotated(tmp_path)
    (union,) = export_docs(project, ExportFilter(), parse_gold("union"))
    assert sorted(s["label"] for s in union.spans) == ["opinion", "quote", "source"]
    by_id = {s["id"]: s for s in union.spans}
    assert sorted((by_id[r["head"]]["label"], r["annotators"]) for r in union.relations) == [
        ("opinion", ["bo"]), ("quote", ["ana", "bo"])]
    quote = next(s for s in union.spans if s["label"] == "quote")
    assert quote["attributes"] == {"kind": "direct"}
    assert union.labels == {}  # news report 1, opinion piece 1: a tie keeps none

    (majority,) = export_docs(project, ExportFilter(), parse_gold("majority"))  # both must agree
    assert sorted(s["label"] for s in majority.spans) == ["quote", "source"]
    assert [r["annotators"] for r in majority.relations] == [["ana", "bo"]]

    (bo,) = export_docs(project, ExportFilter(), parse_gold("annotator:bo"))
    assert len(bo.relations) == 2 and bo.single_labels() == {"genre": ["opinion piece"]}


def _gold_bo(project: Project, fmt: str, target: Path, **options):
    from tui_reader.core.formats.export import export_dataset

    return export_dataset(project, fmt, target, gold="annotator:bo", **options)


def test_brat_writes_relations_and_attributes_and_counts_article_labels_as_lost(tmp_path):
    project = _annotated(tmp_path)
    report = _gold_bo(project, "brat", tmp_path / "brat")
    ann = (tmp_path / "brat" / "d.ann").read_text("utf-8").splitlines()
    spans = {line.split("\t")[0]: line.split("\t")[1].split()[0] for line in ann if line[0] == "T"}
    texts = {line.split("\t")[0]: line.split("\t")[2] for line in ann if line[0] == "T"}
    relations = [line.split("\t")[1].split() for line in ann if line[0] == "R"]
    assert sorted((spans[h[5:]], texts[c[5:]]) for _, h, c in relations) == [
        ("opinion", "Ana Ruiz"), ("quote", "Ana Ruiz")]
    (attribute,) = [line.split("\t")[1].split() for line in ann if line[0] == "A"]
    assert attribute[0] == "kind" and spans[attribute[1]] == "quote" and attribute[2] == "direct"
    conf = (tmp_path / "brat" / "annotation.conf").read_text("utf-8")
    assert "attributed_to\tArg1:quote|claim|opinion, Arg2:source\n" in conf
    assert "kind\tArg:quote, Value:direct|indirect\n" in conf
    assert report.total.losses == {"article labels dropped": 1}


def test_prodigy_rel_manual_shape_and_round_trip(tmp_path):
    import json

    from tui_reader.core.formats.readers import read_path
    from tui_reader.core.importer import import_records

    project = _annotated(tmp_path)
    from tui_reader.core.formats.export import export_dataset

    export_dataset(project, "prodigy", tmp_path / "p.jsonl")
    tasks = {t["_annotator_id"]: t for t in map(json.loads, (tmp_path / "p.jsonl").read_text().splitlines())}
    bo = tasks["bo"]
    assert bo["_view_id"] == "relations" and len(bo["relations"]) == 2
    for relation in bo["relations"]:
        assert relation["head"] == relation["head_span"]["token_end"]
        assert bo["tokens"][relation["child"]]["text"] == "Ruiz"
        assert relation["child_span"]["label"] == "source"
    assert bo["accept"] == ["genre:opinion piece"]
    assert {"id": "genre:news report", "text": "genre: news report"} in bo["options"]

    again = make_project(tmp_path / "again", {})
    report = import_records(again, read_path(tmp_path / "p.jsonl"), "nobody")
    assert report.problems == []
    before, after = project.record("d"), again.record("d")
    for name in ("ana", "bo"):
        def ends(record, who):
            by_id = {s.id: s for s in record.spans}
            return sorted((by_id[r.head].key, by_id[r.child].key, r.label) for r in record.relations_of(who))
        assert ends(after, name) == ends(before, name)
        assert after.article_labels_of(name) == before.article_labels_of(name)
        assert [s.attributes for s in after.spans_of(name)] == [s.attributes for s in before.spans_of(name)]


def test_spacy_docbin_has_cats_relations_and_attributes(tmp_path):
    import spacy
    from spacy.tokens import DocBin

    project = _annotated(tmp_path)
    _gold_bo(project, "spacy", tmp_path / "out.spacy")
    (doc,) = DocBin().from_disk(tmp_path / "out.spacy").get_docs(spacy.blank("en").vocab)
    assert doc.cats == {"genre:news report": 0.0, "genre:opinion piece": 1.0,
                        "genre:press release": 0.0, "genre:other": 0.0}
    spans = list(doc.spans["sc"])
    assert sorted((spans[h].label_, spans[c].text, label) for h, c, label in doc.user_data["relations"]) == [
        ("opinion", "Ana Ruiz", "attributed_to"), ("quote", "Ana Ruiz", "attributed_to")]
    ((index, values),) = doc.user_data["span_attributes"]
    assert spans[index].label_ == "quote" and values == {"kind": "direct"}


def test_conll_counts_what_it_cannot_hold_and_strict_refuses(tmp_path):
    from tui_reader.core.formats.base import ExportLossError

    project = _annotated(tmp_path)
    report = _gold_bo(project, "conll", tmp_path / "out.conll")
    assert report.total.losses == {"relations dropped": 2, "span attributes dropped": 1,
                                   "article labels dropped": 1}
    with pytest.raises(ExportLossError, match="relations dropped"):
        _gold_bo(project, "conll", tmp_path / "strict.conll", strict=True)
    assert not (tmp_path / "strict.conll").exists()


# ------------------------------------------------------------------------------------- review
def test_review_offers_relations_and_attributes_into_the_gold_layer(tmp_path):
    from tui_reader.core.formats.dataset import ExportFilter, export_docs, parse_gold
    from tui_reader.core.review import article_label_votes, review_suggestions
    from tui_reader.core.suggest.suggestion import AttributeSuggestion, RelationSuggestion

    project = _annotated(tmp_path)
    review = AnnotationSession(project, "rita", reviewer="rita")
    review.open("d")
    review.set_suggestions(review_suggestions(project, "d"))
    relations = [s for s in review.links if isinstance(s, RelationSuggestion)]
    assert sorted((r.head[2], r.source) for r in relations) == [
        ("opinion", "by bo"), ("quote", "by ana, bo")]
    agreed = next(r for r in relations if r.source == "by ana, bo")
    change = review.accept(agreed)  # both ends become gold spans, and the relation between them
    assert len(change.after) == 2 and len(change.relations_after) == 1
    gold = Project.open(project.root).record("d")
    assert sorted(s.label for s in gold.spans_of("gold")) == ["quote", "source"]
    assert len(gold.relations_of("gold")) == 1
    assert agreed not in review.links
    (kind,) = [s for s in review.links if isinstance(s, AttributeSuggestion)]
    assert (kind.name, kind.value, kind.source) == ("kind", "direct", "by ana, bo")
    review.accept(kind)
    other = next(r for r in review.links if isinstance(r, RelationSuggestion))
    review.reject(other)
    assert review.links == []
    review.undo()
    assert review.links == [other]  # turned down, then not: offered again
    review.toggle_article_label("genre", "news report")
    assert article_label_votes(project.record("d"), "genre") == {
        "news report": ("ana",), "opinion piece": ("bo",)}

    (adjudicated,) = export_docs(project, ExportFilter(), parse_gold("adjudicated"))
    by_id = {s["id"]: s for s in adjudicated.spans}
    assert [(by_id[r["head"]]["label"], by_id[r["child"]]["text"]) for r in adjudicated.relations] == [
        ("quote", "Ana Ruiz")]
    assert by_id[adjudicated.relations[0]["head"]]["attributes"] == {"kind": "direct"}
    assert adjudicated.single_labels() == {"genre": ["news report"]}


def test_hf_relations_column_resolves_to_the_right_spans(tmp_path):
    datasets = pytest.importorskip("datasets", reason="datasets is not installed")
    project = _annotated(tmp_path)
    _gold_bo(project, "hf", tmp_path / "hub")
    (row,) = datasets.load_dataset(str(tmp_path / "hub"), cache_dir=str(tmp_path / "cache"))["train"]
    spans = row["spans"]
    resolved = sorted((spans[r["head"]]["label"], row["text"][spans[r["child"]]["start"]:
                                                              spans[r["child"]]["end"]], r["label"])
                      for r in row["relations"])
    assert resolved == [("opinion", "Ana Ruiz", "attributed_to"), ("quote", "Ana Ruiz", "attributed_to")]
    assert [s["attributes"]["kind"] for s in spans if s["label"] == "quote"] == ["direct"]
    assert [s["attributes"]["kind"] for s in spans if s["label"] != "quote"] == [None, None]
    assert row["genre"] == "opinion piece"
    import json

    described = json.loads((tmp_path / "hub" / "labels.json").read_text("utf-8"))
    assert described["relations"]["attributed_to"]["children"] == ["source"]
    assert described["article_labels"]["genre"]["column"] == "genre"

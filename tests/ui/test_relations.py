"""Relations (c), attributes (t) and article labels (T) driven through Pilot, read back from disk
with a fresh Project each time."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tests.helpers import make_project
from tui_reader.core.store import Project
from tui_reader.ui.app import AnnotatorApp
from tui_reader.ui.screens.choose_span import ChooseScreen
from tui_reader.ui.screens.help import HelpScreen
from tui_reader.ui.screens.values import ValuesScreen
from tui_reader.ui.widgets.label_panel import LabelPanel
from tui_reader.ui.widgets.status_line import StatusLine

TEXT = ("“We will win this war,” said the minister Ana Ruiz. The plan is dead, Bo Li wrote.\n\n"
        "Prices rose again in May.")
QUOTE = (0, TEXT.index(" said"))
SOURCE = (TEXT.index("Ana Ruiz"), TEXT.index("Ana Ruiz") + len("Ana Ruiz"))
CLAIM = (TEXT.index("Prices"), len(TEXT))


def _project(tmp_path: Path) -> Project:
    project = make_project(tmp_path, {"a": TEXT, "b": "Second article. Nothing here."})
    project.add_span("a", *QUOTE, "quote", "alice")
    project.add_span("a", *SOURCE, "source", "alice")
    project.add_span("a", *CLAIM, "claim", "alice")
    return project


def _disk(project: Project):
    record = Project.open(project.root).record("a")
    keys = {s.id: (s.start, s.end, s.label) for s in record.spans}
    relations = sorted((keys[r.head], keys[r.child], r.label) for r in record.relations)
    return record, relations


def status(app: AnnotatorApp) -> str:
    return str(app.query_one(StatusLine).render())


async def caret_to(app: AnnotatorApp, pilot: Pilot, offset: int) -> None:
    app.pane.move_caret(offset)
    await pilot.pause()


async def test_c_links_two_spans_either_way_and_escape_makes_no_link(tmp_path):
    project = _project(tmp_path)
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await caret_to(app, pilot, SOURCE[0])
        await pilot.press("c")  # the source first: the config orients source as the child
        assert "Linking from source" in status(app)
        await pilot.press("escape")
        assert "No relation made" in status(app)
        await caret_to(app, pilot, QUOTE[0])
        await pilot.press("c")
        assert _disk(project)[1] == []  # escape ended the first one
        await caret_to(app, pilot, SOURCE[0] + 2)
        await pilot.press("c")
        assert _disk(project)[1] == [((*QUOTE, "quote"), (*SOURCE, "source"), "attributed_to")]
        details = str(app.query_one("#details").render())
        assert "attributed_to ← “We will win this war,”" in details  # on the source: the quote
        await caret_to(app, pilot, QUOTE[0])
        details = str(app.query_one("#details").render())
        # The relation, with what it means (config.toml's description).
        assert "attributed_to → “Ana Ruiz” · The quote, claim or opinion comes from" in details
        # No relation goes from a claim to a quote: refused in one line, nothing saved.
        await caret_to(app, pilot, CLAIM[0])
        await pilot.press("c")
        await caret_to(app, pilot, QUOTE[0])
        await pilot.press("c")
        assert "No relation goes between a claim and a quote span" in status(app)
        assert len(_disk(project)[1]) == 1
        await pilot.press("u")  # undoes the link
        assert _disk(project)[1] == []


async def test_x_on_a_linked_span_offers_the_relation_or_the_span_and_u_restores_both(tmp_path):
    project = _project(tmp_path)
    quote = next(s for s in project.record("a").spans if s.label == "quote")
    source = next(s for s in project.record("a").spans if s.label == "source")
    project.add_relation("a", quote.id, source.id, "attributed_to", "alice")
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await caret_to(app, pilot, SOURCE[0])
        await pilot.press("x")
        assert isinstance(app.screen, ChooseScreen)
        await pilot.press("1")  # the span, and its relation
        record, relations = _disk(project)
        assert relations == [] and "source" not in {s.label for s in record.spans}
        await pilot.press("u")  # one u: the span and its relation are back
        record, relations = _disk(project)
        assert relations == [((*QUOTE, "quote"), (*SOURCE, "source"), "attributed_to")]
        await caret_to(app, pilot, SOURCE[0])
        await pilot.press("x", "2")  # the relation only
        record, relations = _disk(project)
        assert relations == [] and "source" in {s.label for s in record.spans}


async def test_t_sets_a_quotes_kind_and_says_when_a_label_has_none(tmp_path):
    project = _project(tmp_path)
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await caret_to(app, pilot, QUOTE[0] + 3)
        await pilot.press("t")
        assert isinstance(app.screen, ValuesScreen)
        await pilot.press("1")  # kind: direct; one field, so the chooser closes
        assert not isinstance(app.screen, ValuesScreen)
        record, _ = _disk(project)
        assert next(s for s in record.spans if s.label == "quote").attributes == {"kind": "direct"}
        assert "kind: direct · Direct (the speaker's words) or indirect" in str(
            app.query_one("#details").render())
        await pilot.press("t", "2")
        assert next(s for s in _disk(project)[0].spans if s.label == "quote").attributes == {
            "kind": "indirect"}
        await pilot.press("u")
        assert next(s for s in _disk(project)[0].spans if s.label == "quote").attributes == {
            "kind": "direct"}
        await caret_to(app, pilot, CLAIM[0])
        await pilot.press("t")
        assert not isinstance(app.screen, ValuesScreen)
        assert "A claim span has no attributes" in status(app)


async def test_T_labels_the_article(tmp_path):
    project = _project(tmp_path)
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("T")
        assert isinstance(app.screen, ValuesScreen)
        await pilot.press("2")  # opinion piece; single choice: the chooser closes
        assert Project.open(project.root).record("a").article_labels_of("alice") == {
            "genre": ("opinion piece",)}
        await pilot.press("T", "1")
        assert Project.open(project.root).record("a").article_labels_of("alice") == {
            "genre": ("news report",)}
        await pilot.press("T", "1")  # again: unset
        assert Project.open(project.root).record("a").article_labels_of("alice") == {}
        await pilot.press("u")
        assert Project.open(project.root).record("a").article_labels_of("alice") == {
            "genre": ("news report",)}


async def test_the_attribution_rule_suggests_the_source_and_a_accepts_it_with_the_link(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    project.add_span("a", *QUOTE, "quote", "alice")
    app = AnnotatorApp(Project.open(project.root), "alice")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.3)
        relations = [s for s in app.session.links if s.label == "attributed_to"]
        assert [TEXT[r.child[0]:r.child[1]] for r in relations] == ["Ana Ruiz"]
        await caret_to(app, pilot, QUOTE[0] + 1)
        assert "attributed_to: “" in str(app.query_one(LabelPanel).query_one("#details").render())
        await pilot.press("a")
        record, relations = _disk(project)
        assert relations == [((*QUOTE, "quote"), (*SOURCE, "source"), "attributed_to")]
        assert next(s for s in record.spans if s.label == "source").source == (
            "suggestion:rule:attribution")
        await pilot.press("u")  # the source span made for it goes with the link
        record, relations = _disk(project)
        assert relations == [] and [s.label for s in record.spans] == ["quote"]


async def test_help_lists_the_new_keys(tmp_path):
    project = _project(tmp_path)
    app = AnnotatorApp(Project.open(project.root), "alice", suggest=False)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("end")  # the app's keys are a scroll away
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        for words in ("c ", "link spans", "t ", "the attributes of the span at the caret",
                      "T ", "the article's labels"):
            assert words in shown, words


CUSTOM = """
[[labels]]
name = "quote"
key = "1"
[[labels]]
name = "source"
key = "2"

[[attributes]]
name = "negated"
labels = ["quote"]
type = "yes/no"
[[attributes]]
name = "topic"
labels = ["quote"]
type = "text"

[[article_labels]]
group = "topics"
values = ["politics", "economy", "health"]
multiple = true
"""


async def test_yes_no_text_attributes_and_a_multiple_choice_group(tmp_path):
    project = make_project(tmp_path, {"a": TEXT})
    (project.root / "config.toml").write_text(CUSTOM, encoding="utf-8")
    project = Project.open(project.root)
    project.add_span("a", *QUOTE, "quote", "alice")
    app = AnnotatorApp(project, "alice", suggest=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await caret_to(app, pilot, QUOTE[0] + 2)
        await pilot.press("t", "1")  # negated: yes (two fields: the chooser stays)
        assert isinstance(app.screen, ValuesScreen)
        await pilot.press("j", "enter")  # topic: a line of text
        await pilot.press(*"war", "enter")
        await pilot.press("escape")
        (quote,) = Project.open(project.root).record("a").spans
        assert quote.attributes == {"negated": True, "topic": "war"}
        await pilot.press("T", "1", "3", "escape")  # politics and health
        assert Project.open(project.root).record("a").article_labels_of("alice") == {
            "topics": ("politics", "health")}
        await pilot.press("T", "1", "escape")  # politics off again
        assert Project.open(project.root).record("a").article_labels_of("alice") == {
            "topics": ("health",)}

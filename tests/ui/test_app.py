"""The annotator app driven through Pilot: keys and mouse in, spans read back from the store out.

Every test reads its spans through a fresh ``Project.open`` (``stored_spans``), so what is asserted
is what is on disk, not what the session holds in memory. The corpus is written as bytes with CRLF
line ends and imported, so offsets are into the LF canonical text.
"""

from __future__ import annotations

import errno
import html
import re
import threading
from pathlib import Path

import pytest
from rich.style import Style
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import OptionList, Static

import tui_reader.core.storage as storage
import tui_reader.ui.saving as saving
from tests.helpers import import_corpus, make_project, stored_spans
from tui_reader.core.store import Project
from tui_reader.ui.app import AnnotatorApp
from tui_reader.ui.screens.choose_span import ChooseSpanScreen
from tui_reader.ui.screens.help import HelpScreen
from tui_reader.ui.widgets.reading_pane import ReadingPane
from tui_reader.ui.widgets.status_line import StatusLine
from tui_reader.ui.wrap import cell_of_offset

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧: five code points, one grapheme
THUMB = "\U0001f44d\U0001f3fd"  # 👍🏽: two code points, one grapheme
CAFE = "Cafe\u0301"  # e + combining acute: two code points, one grapheme

MIXED = (
    f"Family {FAMILY} came home. They liked the {THUMB} sign! 日本語です。{CAFE} is open.\r\n"
    "\r\n"
    "Second paragraph starts here. It ends now.\r\n"
)
T = MIXED.replace("\r\n", "\n")  # the canonical text every offset indexes

MIXED_ID = "01-mixed.txt"
FIRST_ID, PLAIN_ID, LAST_ID = "00-first.txt", "02-plain.txt", "03-last.txt"


def _sentence(first: str, last: str) -> tuple[int, int]:
    start = T.index(first)
    return start, T.index(last, start) + len(last)


S1 = _sentence("Family", "home.")  # has the ZWJ family
S2 = _sentence("They", "sign!")  # has the skin-tone thumb
S3 = _sentence("日本語", "。")  # CJK, ends without a space
S4 = _sentence(CAFE, "open.")  # starts right after 。
S5 = _sentence("Second", "here.")  # after the blank CRLF line
S6 = _sentence("It ends", "now.")
EMOJI = (T.index(FAMILY), T.index(FAMILY) + len(FAMILY))
A, B = "alice", "bob"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Four CRLF articles; alice has already finished the first one."""
    project = import_corpus(
        tmp_path,
        {
            FIRST_ID: b"Already read. Nothing to do here.\r\n",
            MIXED_ID: MIXED.encode("utf-8"),
            PLAIN_ID: b"Plain second article. It has two sentences.\r\n",
            LAST_ID: b"The last article. Short and sweet.\r\n",
        },
    )
    assert project.document(MIXED_ID).text == T  # CRLF became LF
    project.set_status(FIRST_ID, A, "done")
    return tmp_path / "db"


def make_app(db: Path, annotator: str = A) -> AnnotatorApp:
    return AnnotatorApp(Project.open(db), annotator)


def status_text(app: AnnotatorApp) -> str:
    return str(app.query_one(StatusLine).render())


def stored_status(db: Path, doc_id: str, annotator: str = A) -> str:
    mark = Project.open(db).record(doc_id).statuses.get(annotator)
    return mark.status if mark else "new"


async def settle(pilot: Pilot) -> None:
    """Let the background workers (progress scan, search) finish and their results land."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def styles_by_offset(pane: ReadingPane, y: int) -> list[Style]:
    """The style of each code point drawn on screen row ``y`` of the pane (no tabs here)."""
    strip: Strip = pane.render_line(y)
    return [seg.style or Style() for seg in strip for _ in seg.text]


def pane_cell(pane: ReadingPane, offset: int) -> tuple[int, int]:
    """Where ``offset`` is drawn, relative to the pane's region (as Pilot's ``offset=`` wants)."""
    row = pane.rows.row_of(offset)
    x = cell_of_offset(pane.display_text, pane.rows.rows[row], offset)
    return pane.gutter.left + x, pane.gutter.top + row - round(pane.scroll_offset.y)


def screenshot_text(app: AnnotatorApp) -> str:
    """The characters of ``app.export_screenshot()`` (styled runs lose the spaces between them)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def screen_lines(app: AnnotatorApp) -> list[str]:
    """The screen as the terminal would show it, one string per row (textual is pinned)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


# ------------------------------------------------------------------------------------ opening


async def test_opens_first_unfinished_and_labels_three_sentences(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.session.doc is not None and app.session.doc.id == MIXED_ID
        assert app.focused is app.pane
        assert app.pane.caret == 0
        await pilot.press("1")  # at once: the first sentence
        assert stored_spans(db, MIXED_ID) == [(*S1, "claim", A)]
        assert app.pane.caret == 0  # labelling does not move the caret
        await pilot.press(")")
        assert app.pane.caret == S2[0]  # the first character of the next sentence
        await pilot.press("2", ")")
        assert app.pane.caret == S3[0]
        await pilot.press("3", ")")
        assert app.pane.caret == S4[0]  # after 。 a sentence starts with no space
    assert stored_spans(db, MIXED_ID) == [(*S1, "claim", A), (*S2, "quote", A), (*S3, "opinion", A)]
    spans = Project.open(db).spans(MIXED_ID)
    assert [s.text for s in spans] == [T[S1[0]:S1[1]], T[S2[0]:S2[1]], "日本語です。"]


async def test_offsets_after_crlf_lines_are_into_the_lf_text(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("right_curly_bracket")
        assert app.pane.caret == S5[0]
        await pilot.press("4", ")", "1")
    spans = Project.open(db).spans(MIXED_ID)
    assert [(s.start, s.end, s.label, s.text) for s in spans] == [
        (*S5, "boilerplate", "Second paragraph starts here."),
        (*S6, "claim", "It ends now."),
    ]


# ------------------------------------------------------------------------------------ motions


async def test_graphemes_are_one_step_and_selections_snap(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.pane
        await pilot.press("w")
        assert pane.caret == EMOJI[0]
        await pilot.press("l")
        assert pane.caret == EMOJI[1]  # the whole ZWJ family is one step
        await pilot.press("h")
        assert pane.caret == EMOJI[0]
        await pilot.press("b")
        assert pane.caret == 0
        await pilot.press(")", "w", "w", "w")
        thumb = T.index(THUMB)
        assert pane.caret == thumb
        await pilot.press("right")
        assert pane.caret == thumb + 2  # skin tone modifier included
        await pilot.press("left")
        assert pane.caret == thumb

        cafe = T.index(CAFE)
        await pilot.press(")", ")")
        assert pane.caret == cafe
        for expected in (cafe + 1, cafe + 2, cafe + 3, cafe + 5):  # é is e + U+0301: one step
            await pilot.press("l")
            assert pane.caret == expected
        await pilot.press("h")
        assert pane.caret == cafe + 3  # back onto the e, never between it and its mark

        # Snapping on (the default): a selection inside a word labels the whole word.
        await pilot.press("h", "h", "v", "l")
        assert pane.selection() == (cafe + 1, cafe + 3)
        await pilot.press("4")
        assert pane.selection() is None and pane.caret == cafe + 2
        assert stored_spans(db, MIXED_ID) == [(cafe, cafe + 5, "boilerplate", A)]

        # Snapping off: exact graphemes, the combining mark kept with its letter.
        await pilot.press("W")
        assert "characters" in status_text(app)
        await pilot.press("v", "l", "3")  # f + é
        # Snapping off, starting in whitespace: the space is trimmed, the emoji kept whole.
        await pilot.press("g", "w", "h")
        assert T[pane.caret] == " "
        await pilot.press("v", "l", "2")
    assert stored_spans(db, MIXED_ID) == [
        (*EMOJI, "quote", A),
        (cafe, cafe + 5, "boilerplate", A),
        (cafe + 2, cafe + 5, "opinion", A),
    ]
    texts = {s.label: s.text for s in Project.open(db).spans(MIXED_ID)}
    assert texts["opinion"] == "fe\u0301" and texts["quote"] == FAMILY


async def test_visual_mode_shift_arrows_escape_and_s(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.pane
        await pilot.press("w", "w")  # outside visual mode motions only move the caret
        assert pane.caret == T.index("came") and pane.selection() is None
        await pilot.press("v")
        assert "VISUAL" in status_text(app)
        await pilot.press("w")  # forward by a word stops on its last character: one word
        assert pane.selection() == (T.index("came"), T.index("came") + 4)
        await pilot.press(")")  # motions extend the selection, to the end of the sentence
        assert pane.selection() == (T.index("came"), S1[1])
        await pilot.press("b")
        assert pane.selection() == (T.index("came"), T.index("home") + 1)
        await pilot.press("escape")
        assert pane.selection() is None and "VISUAL" not in status_text(app)
        assert pane.caret == T.index("home")

        await pilot.press("v", "v")  # v again leaves visual mode
        assert pane.selection() is None

        await pilot.press("shift+right", "shift+right", "shift+right")
        assert pane.selection() == (T.index("home"), T.index("home") + 4)
        await pilot.press("escape", "j")
        assert pane.selection() is None
        assert pane.rows.row_of(pane.caret) == 1
        await pilot.press("k")
        assert pane.caret == T.index("home") + 3  # back to the same column
        await pilot.press("shift+down")
        assert pane.selection() is not None
        await pilot.press("escape", "right_curly_bracket")
        assert pane.caret == S5[0]
        await pilot.press("left_curly_bracket")
        assert pane.caret == 0
        await pilot.press(")", "s")
        assert pane.selection() == S2
        await pilot.press("2")
        assert pane.selection() is None and pane.caret == S2[1] - 1
        await pilot.press("v", "b", "escape", "1")  # escape cleared it: the sentence at the caret
    assert stored_spans(db, MIXED_ID) == [(*S2, "claim", A)]  # same extent: relabelled


# --------------------------------------------------------------------------- labels and spans


async def test_relabel_overlap_and_other_annotators_untouched(db: Path) -> None:
    project = Project.open(db)
    bob_sentence = project.add_span(MIXED_ID, *S1, "claim", B)
    bob_emoji = project.add_span(MIXED_ID, *EMOJI, "quote", B)
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1")  # bob has this extent: alice still gets her own span
        assert stored_spans(db, MIXED_ID, A) == [(*S1, "claim", A)]
        await pilot.press("2")  # her span of exactly this extent: relabelled, not added
        assert stored_spans(db, MIXED_ID, A) == [(*S1, "quote", A)]
        assert "claim → quote" in status_text(app)
        depth = len(app.session.undo_stack)
        await pilot.press("2")  # already a quote: nothing changes, nothing to undo
        assert len(app.session.undo_stack) == depth
        await pilot.press("w", "v", "3")  # the emoji: overlaps her quote
        assert app.pane.caret == EMOJI[0]
        await pilot.press("x")  # deletes hers, never bob's: two of hers here: a choice
        assert isinstance(app.screen, ChooseSpanScreen)
        await pilot.press("escape")
        await pilot.press("l", "l", "x")  # "came": only her sentence span: deleted at once
        assert not isinstance(app.screen, ChooseSpanScreen)
    assert stored_spans(db, MIXED_ID, A) == [(*EMOJI, "opinion", A)]
    assert Project.open(db).spans(MIXED_ID, B) == [bob_sentence, bob_emoji]  # not even touched


async def test_delete_choice_and_undo_redo_across_articles(db: Path) -> None:
    Project.open(db).add_span(MIXED_ID, *S1, "opinion", B)
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1", "w", "v", "3")  # claim on S1, opinion on the emoji inside it
        states = [stored_spans(db, MIXED_ID, A)]
        assert states[-1] == [(*S1, "claim", A), (*EMOJI, "opinion", A)]

        await pilot.press("x")
        screen = app.screen
        assert isinstance(screen, ChooseSpanScreen)
        options = screen.query_one(OptionList)
        assert options.option_count == 2  # hers only; bob's opinion is not offered
        assert {o.id for o in (options.get_option_at_index(i) for i in range(2))} == {
            s.id for s in app.session.spans
        }
        await pilot.press("down", "enter")  # the second: the longer, the sentence
        assert not isinstance(app.screen, ChooseSpanScreen)
        states.append(stored_spans(db, MIXED_ID, A))
        assert states[-1] == [(*EMOJI, "opinion", A)]

        await pilot.press("v", "2")  # same extent as the opinion: relabel
        states.append(stored_spans(db, MIXED_ID, A))
        assert states[-1] == [(*EMOJI, "quote", A)]

        await pilot.press("d")  # done, and the next article not done opens
        assert stored_status(db, MIXED_ID) == "done"
        assert app.session.doc is not None and app.session.doc.id == PLAIN_ID
        await pilot.press("1")
        plain = stored_spans(db, PLAIN_ID, A)
        assert plain == [(0, len("Plain second article."), "claim", A)]

        await pilot.press("u")  # the add in this article
        assert stored_spans(db, PLAIN_ID, A) == []
        assert "undone" in status_text(app)
        await pilot.press("u")  # the status: back in the previous article
        assert app.session.doc.id == MIXED_ID
        assert stored_status(db, MIXED_ID) == "new"
        await pilot.press("u")  # the relabel
        assert stored_spans(db, MIXED_ID, A) == states[1]
        await pilot.press("u")  # the delete
        assert stored_spans(db, MIXED_ID, A) == states[0]
        await pilot.press("u")  # the second add
        assert stored_spans(db, MIXED_ID, A) == [(*S1, "claim", A)]
        await pilot.press("u")  # the first add
        assert stored_spans(db, MIXED_ID, A) == []
        await pilot.press("u")
        assert "Nothing to undo" in status_text(app)

        # Redo, alternating its two keys, replays every change in order.
        await pilot.press("ctrl+r")
        assert stored_spans(db, MIXED_ID, A) == [(*S1, "claim", A)]
        await pilot.press("U")
        assert stored_spans(db, MIXED_ID, A) == states[0]
        await pilot.press("ctrl+r")
        assert stored_spans(db, MIXED_ID, A) == states[1]
        await pilot.press("U")
        assert stored_spans(db, MIXED_ID, A) == states[2]
        await pilot.press("ctrl+r")
        assert stored_status(db, MIXED_ID) == "done"
        await pilot.press("U")
        assert app.session.doc.id == PLAIN_ID  # the redo happened there: shown there
        assert stored_spans(db, PLAIN_ID, A) == plain
        await pilot.press("U")
        assert "Nothing to redo" in status_text(app)
    assert stored_spans(db, MIXED_ID, B) == [(*S1, "opinion", B)]


# ----------------------------------------------------------------------------- articles, keys


async def test_done_next_previous_and_nothing_left(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.session.doc.id == MIXED_ID
        await pilot.press("p")
        assert app.session.doc.id == FIRST_ID and app.pane.caret == 0
        await pilot.press("n", "n")
        assert app.session.doc.id == PLAIN_ID
        await pilot.press("p", "d")
        assert app.session.doc.id == PLAIN_ID
        await pilot.press("d")
        assert app.session.doc.id == LAST_ID
        await pilot.press("d")  # nothing left: says so, stays
        assert app.session.doc.id == LAST_ID
        assert "Every article is done" in status_text(app)
        assert "done" in str(app.query_one("#article-header", Static).render())
        await pilot.press("1")  # still usable
    assert [stored_status(db, d) for d in (FIRST_ID, MIXED_ID, PLAIN_ID, LAST_ID)] == ["done"] * 4
    assert stored_spans(db, LAST_ID) == [(0, len("The last article."), "claim", A)]


async def test_help_lists_every_key_and_q_quits(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = "\n".join(screen_lines(app))
        for key in ("1           claim", "h ←", "shift+←", "esc", "select the sentence at the caret"):
            assert key in shown, key
        await pilot.press("end")  # the rest of the keys is a scroll away
        shown = "\n".join(screen_lines(app))
        for key in ("ctrl+r U", "redo", "W ", "d ", "mark this article done", "q ", "quit"):
            assert key in shown, key
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        assert app.return_code == 0 and not app.is_running


# ---------------------------------------------------------------------------------------- mouse


async def test_mouse_drag_selects_and_a_label_key_labels_the_words(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.pane
        came, home = T.index("came"), T.index("home")
        x0, y0 = pane_cell(pane, came + 1)  # from the middle of "came"
        x1, y1 = pane_cell(pane, home + 2)  # to the middle of "home"
        await pilot.mouse_down(ReadingPane, offset=(x0, y0))
        assert pane.caret == came + 1
        await pilot.hover(ReadingPane, offset=(x1, y1))
        await pilot.mouse_up(ReadingPane, offset=(x1, y1))
        assert pane.selection() == (came + 1, home + 3)
        await pilot.press("2")
        assert stored_spans(db, MIXED_ID) == [(came, home + 4, "quote", A)]  # whole words

        # Wide characters: the right half of a CJK cell is still that character.
        ben, su = T.index("本"), T.index("す")
        x0, y0 = pane_cell(pane, ben)
        x1, y1 = pane_cell(pane, su)
        await pilot.mouse_down(ReadingPane, offset=(x0 + 1, y0))
        await pilot.hover(ReadingPane, offset=(x1 + 1, y1))
        await pilot.mouse_up(ReadingPane, offset=(x1 + 1, y1))
        assert pane.selection() == (ben, su + 1)
        await pilot.press("3")

        x, y = pane_cell(pane, T.index("sign"))  # a plain click only moves the caret
        await pilot.click(ReadingPane, offset=(x, y))
        assert pane.caret == T.index("sign") and pane.selection() is None
    assert stored_spans(db, MIXED_ID) == [(came, home + 4, "quote", A), (ben, su + 1, "opinion", A)]


# --------------------------------------------------------------------------------------- saving


async def test_failed_save_is_shown_and_retried(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(saving, "RETRY_SECONDS", 0.1)
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1")  # every action saved when it happens
        assert stored_spans(db, MIXED_ID) == [(*S1, "claim", A)]
        assert "saved" in status_text(app)

        real = storage.write_json_atomic, storage.append_at
        attempts = []

        def disk_full(*args: object, **kwargs: object) -> None:
            attempts.append(args)
            raise OSError(errno.ENOSPC, "No space left on device")

        # Both ways a change reaches the disk: a journal line, or a new file.
        monkeypatch.setattr(storage, "write_json_atomic", disk_full)
        monkeypatch.setattr(storage, "append_at", disk_full)
        await pilot.press(")", "2")
        status = status_text(app)
        assert "NOT SAVED" in status and "No space left on device" in status
        assert stored_spans(db, MIXED_ID) == [(*S1, "claim", A)]
        await pilot.press(")", "3")  # refused while the last one is unsaved, and says so
        assert "NOT SAVED" in status_text(app)
        await pilot.press("q")  # quitting would lose it: not without asking twice
        assert app.is_running and "press q again" in status_text(app)
        tried = len(attempts)
        await pilot.pause(5 * saving.RETRY_SECONDS)  # retried meanwhile: the disk is still full
        assert len(attempts) > tried
        assert "NOT SAVED" in status_text(app)
        assert stored_spans(db, MIXED_ID) == [(*S1, "claim", A)]

        monkeypatch.setattr(storage, "write_json_atomic", real[0])
        monkeypatch.setattr(storage, "append_at", real[1])
        for _ in range(50):  # the next retry saves it
            if "NOT SAVED" not in status_text(app):
                break
            await pilot.pause(saving.RETRY_SECONDS)
        assert "NOT SAVED" not in status_text(app) and "saved" in status_text(app)
        await pilot.press("3")  # usable again
    assert stored_spans(db, MIXED_ID) == [(*S1, "claim", A), (*S2, "quote", A), (*S3, "opinion", A)]


# --------------------------------------------------------------------------------- article list


async def test_article_list_shows_status_counts_and_filters(db: Path) -> None:
    Project.open(db).add_span(PLAIN_ID, 0, 5, "claim", B)  # bob's: not counted for alice
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.table

        def row(doc_id: str) -> str:
            ids = [table.docs[i].id for i in table.shown_rows]
            return table.render_line(ids.index(doc_id) - round(table.scroll_offset.y)).text

        def shown() -> list[str]:
            return [table.docs[i].id for i in table.shown_rows]

        await pilot.press("1", ")", "2")
        assert row(MIXED_ID).startswith("◐") and " 2 " in row(MIXED_ID)
        assert row(FIRST_ID).startswith("✓")
        assert row(PLAIN_ID).startswith("·") and " 1 " not in row(PLAIN_ID)
        assert "1/4 done" in str(app.query_one("#progress", Static).render())

        await pilot.press("slash")
        assert app.focused is app.query_one("#search")
        await pilot.press(*"sweet")  # text, not only titles
        await settle(pilot)
        assert shown() == [LAST_ID]
        await pilot.press("enter", "enter")  # into the list, open the match
        await pilot.pause()
        assert app.session.doc.id == LAST_ID and app.focused is app.pane
        await pilot.press("slash", *["backspace"] * 5, "escape")
        await settle(pilot)
        assert shown() == [FIRST_ID, MIXED_ID, PLAIN_ID, LAST_ID]
        assert app.focused is app.pane

        filters = []
        for _ in range(5):
            await pilot.press("f")
            filters.append((table.status_filter, shown()))
        assert filters == [
            ("new", [PLAIN_ID, LAST_ID]),
            ("in progress", [MIXED_ID]),
            ("done", [FIRST_ID]),
            ("skipped", []),
            ("all", [FIRST_ID, MIXED_ID, PLAIN_ID, LAST_ID]),
        ]


async def test_labelling_before_the_list_scan_ends_keeps_the_new_count(db: Path) -> None:
    project = Project.open(db)
    scan_started = threading.Event()
    scan_may_finish = threading.Event()
    real_changes = project.progress_changes

    def slow_changes(annotator, seen, problems=None):  # type: ignore[no-untyped-def]
        result = real_changes(annotator, seen, problems)  # read before the label below is saved
        scan_started.set()
        scan_may_finish.wait(10)
        return result

    project.progress_changes = slow_changes  # type: ignore[method-assign]
    app = AnnotatorApp(project, A)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):  # the scan starts a moment after the first frame
            if scan_started.is_set():
                break
            await pilot.pause(0.05)
        await pilot.press("1")  # while the list's scan is still running
        scan_may_finish.set()
        for _ in range(50):
            if FIRST_ID in app.table.progress and app.table.progress[FIRST_ID].status == "done":
                break
            await pilot.pause(0.05)
        await settle(pilot)
        ids = [app.table.docs[i].id for i in app.table.shown_rows]
        row = app.table.render_line(ids.index(MIXED_ID)).text
        assert row.startswith("◐") and " 1 " in row
        assert app.table.render_line(ids.index(FIRST_ID)).text.startswith("✓")


async def test_an_article_finished_before_the_list_scan_ends_stays_done(db: Path) -> None:
    """The first scan read the files before the label and the `d`: when it lands, the article
    left behind (no longer the open one) keeps the progress the app gave it."""
    project = Project.open(db)
    scan_started = threading.Event()
    scan_may_finish = threading.Event()
    real_changes = project.progress_changes

    def slow_changes(annotator, seen, problems=None):  # type: ignore[no-untyped-def]
        result = real_changes(annotator, seen, problems)
        scan_started.set()
        scan_may_finish.wait(10)
        return result

    project.progress_changes = slow_changes  # type: ignore[method-assign]
    app = AnnotatorApp(project, A)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            if scan_started.is_set():
                break
            await pilot.pause(0.05)
        await pilot.press("1", "d")  # labelled and done: the next article opens
        assert app.session.doc is not None and app.session.doc.id == PLAIN_ID
        scan_may_finish.set()
        for _ in range(50):
            if FIRST_ID in app.table.progress:
                break
            await pilot.pause(0.05)
        await settle(pilot)
        ids = [app.table.docs[i].id for i in app.table.shown_rows]
        row = app.table.render_line(ids.index(MIXED_ID)).text
        assert row.startswith("✓") and " 1 " in row
        assert "2/4 done" in str(app.query_one("#progress", Static).render())


# ------------------------------------------------------------------------------------ rendering


async def test_overlaps_caret_and_selection_are_visible(db: Path) -> None:
    project = Project.open(db)
    project.add_span(MIXED_ID, *S1, "quote", A)
    came_home = (T.index("came"), T.index("home") + 4)
    project.add_span(MIXED_ID, *came_home, "claim", A)
    colors = {label.name: label.color for label in project.config.labels}
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.pane
        await pilot.press("w")  # caret on the emoji, inside the quote only
        styles = styles_by_offset(pane, 0)
        assert all(styles[i].reverse for i in range(*EMOJI))  # the whole grapheme
        assert not styles[0].reverse
        quote_only = styles[1]
        assert quote_only.bgcolor and quote_only.bgcolor.name == colors["quote"]
        assert not quote_only.underline

        await pilot.press("w")  # caret on "came": in both spans
        styles = styles_by_offset(pane, 0)
        caret = came_home[0]
        inner = styles[caret + 1]  # the overlap, not the caret: innermost colour, marked
        assert inner.bgcolor.name == colors["claim"]
        assert inner.underline and inner.bold
        assert styles[caret].reverse and styles[caret].underline  # the caret over a highlight
        assert not styles[caret + 1].reverse

        await pilot.press("v", "l")  # a selection over both spans
        styles = styles_by_offset(pane, 0)
        selected = {styles[caret].bgcolor, styles[caret + 1].bgcolor}
        assert len(selected) == 1
        assert selected.isdisjoint({inner.bgcolor, quote_only.bgcolor})
        assert styles[caret + 1].reverse and not styles[caret].reverse
        assert styles[caret + 2].bgcolor == inner.bgcolor  # past the selection: the span again


async def test_article_text_is_data(tmp_path: Path) -> None:
    text = ("[bold red]x[/] [link=http://e]y[/link] [@click=app.quit]z and \x1b[31mred\x07 "
            "ring \x9b c1.\nSecond line.")
    make_project(tmp_path, {"evil": text, "other": "Something else."})
    app = AnnotatorApp(Project.open(tmp_path / "db"), A)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.pane
        rows = "".join(pane.render_line(y).text for y in range(len(pane.rows)))
        assert "[bold red]x[/] [link=http://e]y[/link]" in rows
        assert "[@click=app.quit]z" in rows
        assert "␛[31mred␇" in rows and "\x1b" not in rows and "\x9b" not in rows
        screen = screenshot_text(app)
        assert "[@click=app.quit]z" in screen and "[link=http://e]y[/link]" in screen
        assert "␛" in screen and "\x1b" not in screen and "\x07" not in screen
        header = str(app.query_one("#article-header", Static).render())
        assert header.startswith("[bold red]x[/] [link=http://e]")

        x, y = pane_cell(pane, text.index("z"))
        await pilot.click(ReadingPane, offset=(x, y))
        await pilot.click(ReadingPane, offset=(x - 3, y))
        await pilot.click("#article-header", offset=(20, 0))
        await pilot.click("#articles", offset=(4, 0))
        await pilot.press("1")  # the span and its text show in the panel
        await pilot.pause()
        assert app.is_running and app.return_code is None
        details = str(app.query_one("#details", Static).render())
        assert "[@click=app.quit]z" in details
    assert stored_spans(tmp_path / "db", "evil") == [(0, text.index("\n"), "claim", A)]


async def test_narrow_terminal_collapses_panels_and_still_labels(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        assert not app.query_one("#panel").display  # the label panel collapses
        assert not app.query_one("#list").display  # so does the list: the text gets the width
        assert app.pane.size.width >= 78
        lines = screen_lines(app)
        # The header's second row, on screen: a long title must not push it out of its two rows.
        assert "2/4 · new" in lines[1]
        assert any("Family" in line for line in lines)
        await pilot.press(")", "2")
        assert "saved" in status_text(app)
    assert stored_spans(db, MIXED_ID) == [(*S2, "quote", A)]


# ------------------------------------------------------------------- served: the server's disk


async def test_no_screenshot_is_offered_and_none_is_written(db: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Served over SSH the app runs on the server: Textual's screenshot (palette command and
    action) would write an SVG into the server's ~/Downloads."""
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    (home / "Downloads").mkdir(parents=True)  # Textual saves there when the folder exists
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.chdir(cwd)
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)

        async def offered() -> list[str]:
            await pilot.pause(0.3)  # the palette gathers its commands in the background
            commands = app.screen.query_one(CommandList)
            return [str(commands.get_option_at_index(i).prompt).split("\n")[0]
                    for i in range(commands.option_count)]

        titles = await offered()
        assert {"Theme", "Keys", "Quit", "Mark article done"} <= set(titles)
        assert not [t for t in titles if "screenshot" in t.lower()]
        await pilot.press(*"screensh")
        assert not [t for t in await offered() if "screenshot" in t.lower()]
        await pilot.press("escape")
        assert not isinstance(app.screen, CommandPalette)
        # Whatever binding or link would run Textual's screenshot action: nothing is written.
        await app.run_action("screenshot")
        await app.run_action("app.screenshot")
        app.deliver_screenshot()
        await pilot.pause(0.5)
        assert app.is_running
    assert [p for p in (*home.rglob("*"), *cwd.rglob("*")) if p.is_file()] == []


async def test_a_bug_in_a_store_action_stops_the_app_with_its_traceback(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only problems a user can fix become NOT SAVED: a bug must be seen (and reported), not
    turned into a message; what was saved before it is on disk."""
    app = make_app(db)
    with pytest.raises(KeyError, match="a bug"):
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("1")

            def broken(*args: object) -> None:
                raise KeyError("a bug")

            monkeypatch.setattr(app.session, "label", broken)
            await pilot.press(")", "2")
            await pilot.pause()
    assert stored_spans(db, MIXED_ID) == [(*S1, "claim", A)]


# ---------------------------------------------------------------------------------------- notes


async def test_a_note_is_saved_on_the_span_at_the_caret_and_escape_cancels(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1", "e")
        note_field = app.query_one("#note")
        assert app.focused is note_field
        await pilot.press(*"[b]check[/b] it", "enter")
        assert app.focused is app.pane and not note_field.display
        assert [s.note for s in Project.open(db).spans(MIXED_ID)] == ["[b]check[/b] it"]
        assert "note" in status_text(app) and "saved" in status_text(app)
        assert "note: [b]check[/b] it" in str(app.query_one("#details", Static).render())
        await pilot.press("e", *" and more", "escape")  # cancelled: nothing saved
        assert app.focused is app.pane and not note_field.display
        await pilot.pause()
    assert [s.note for s in Project.open(db).spans(MIXED_ID)] == ["[b]check[/b] it"]

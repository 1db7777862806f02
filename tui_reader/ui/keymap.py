"""Every key of the app in one place: the bindings and the help screen both read this table.

No key needs a modifier (they often do not arrive over SSH or tmux); shift+arrows and ctrl+r are
extras where the terminal sends them.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    keys: str  # Textual key names, comma-separated
    action: str
    help: str
    shown: str = ""  # how the help screen writes the keys (default: from ``keys``)
    footer: str = ""  # a short name for the footer bar (empty: not in the footer)


# Caret motions and selection: the reading pane.
PANE_KEYS = (
    Key("h,left", "move('grapheme', -1)", "caret left one character (an emoji is one)", "h ←"),
    Key("l,right", "move('grapheme', 1)", "caret right one character", "l →"),
    Key("k,up", "move('row', -1)", "caret up one line", "k ↑"),
    Key("j,down", "move('row', 1)", "caret down one line", "j ↓"),
    Key("w", "move('word', 1)", "next word"),
    Key("b", "move('word', -1)", "previous word"),
    Key("right_parenthesis", "move('sentence', 1)", "next sentence", ")"),
    Key("left_parenthesis", "move('sentence', -1)", "start of sentence / previous sentence", "("),
    Key("right_curly_bracket", "move('paragraph', 1)", "next paragraph", "}"),
    Key("left_curly_bracket", "move('paragraph', -1)", "previous paragraph", "{"),
    Key("0,home", "move('line', -1)", "start of the line", "0 home"),
    Key("dollar_sign,end", "move('line', 1)", "end of the line", "$ end"),
    Key("g", "move('text', -1)", "start of the article"),
    Key("G", "move('text', 1)", "end of the article"),
    Key("pageup,ctrl+b", "move('page', -1)", "page up", "pgup"),
    Key("pagedown,ctrl+f,space", "move('page', 1)", "page down", "pgdn space"),
    Key("v", "visual", "start/stop a selection that motions extend (vim's visual mode)",
        footer="select"),
    Key("s", "select_sentence", "select the sentence at the caret"),
    Key("shift+left", "extend('grapheme', -1)", "extend the selection left", "shift+←"),
    Key("shift+right", "extend('grapheme', 1)", "extend the selection right", "shift+→"),
    Key("shift+up", "extend('row', -1)", "extend the selection up", "shift+↑"),
    Key("shift+down", "extend('row', 1)", "extend the selection down", "shift+↓"),
    Key("escape", "clear_selection", "clear the selection", "esc"),
)

# Labelling, articles and the app: the whole screen.
APP_KEYS = (
    Key("x", "delete_span", "delete your span at the caret (choose if several overlap)"),
    Key("a,enter", "accept", "accept the suggestion at the caret (in review: the candidate)", "a enter"),
    Key("r", "reject", "reject the suggestion at the caret: not suggested here again"),
    Key("asterisk", "label_every", "label every occurrence in this article of the span (or "
        "selection) at the caret: one u undoes them all", "*"),
    Key("A", "accept_all", "accept every suggestion of that label in this article"),
    Key("greater_than_sign", "suggestion(1)", "next suggestion", ">"),
    Key("less_than_sign", "suggestion(-1)", "previous suggestion", "<"),
    Key("u", "undo", "undo (every change of this session)", footer="undo"),
    Key("ctrl+r,U", "redo", "redo", "ctrl+r U"),
    Key("W", "toggle_snap", "snap selections to whole words on/off"),
    Key("o", "toggle_others", "show other annotators' spans (read-only)"),
    Key("e", "edit_note", "write a note on the span at the caret"),
    Key("c", "connect", "link spans: c on one, move to the other, c again (esc: no link)"),
    Key("t", "attributes", "the attributes of the span at the caret (1-9 pick a value)"),
    Key("T", "article_labels", "the article's labels, e.g. its genre (1-9 pick)"),
    Key("d", "done", "mark this article done and open the next one not done", footer="done"),
    Key("S", "skip", "mark this article skipped and open the next one not done"),
    Key("n", "article(1)", "next article"),
    Key("p", "article(-1)", "previous article"),
    Key("slash", "search", "search the article list", "/"),
    Key("f", "cycle_filter", "filter the article list by status"),
    Key("tab", "app.focus_next", "next panel"),
    Key("left_square_bracket", "toggle_list", "show/hide the article list", "["),
    Key("right_square_bracket", "toggle_panel", "show/hide the label panel", "]"),
    Key("H", "guidelines", "the project's annotation guidelines (/ searches them)"),
    Key("i", "stats", "project statistics: labels, progress bars, agreement"),
    Key("question_mark", "help", "all keys", "?", footer="keys"),
    Key("q", "quit", "quit (everything is already saved)", footer="quit"),
)


def bindings(keys: tuple[Key, ...]) -> list[Binding]:
    return [
        Binding(k.keys, k.action, k.footer or k.help, show=bool(k.footer), key_display=k.shown or None)
        for k in keys
    ]


def shown(key: Key) -> str:
    return key.shown or key.keys.replace(",", " ")

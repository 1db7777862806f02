"""Guards on the private internals tui-reader relies on; a failure here means a pin must move."""

from tinydb.table import Table

from tui_reader.core.storage import LockedTable


def test_tinydb_still_caches_the_next_id_in_next_id(tmp_path):
    # storage.LockedTable resets Table._next_id inside its lock; if TinyDB renames it, ids collide.
    from tinydb import TinyDB

    db = TinyDB(tmp_path / "x.json")
    table = db.table("t")
    table.insert({"a": 1})
    assert "_next_id" in vars(table)
    assert issubclass(LockedTable, Table)
    db.close()


def test_textual_still_has_the_crash_hooks_the_served_app_replaces():
    # serve/app_entry.py replaces App._fatal_error and App.panic (so a crash's traceback goes to
    # the server's log without local variables) and calls App._close_messages_no_wait.
    import inspect

    from textual.app import App

    for name in ("_fatal_error", "panic", "_close_messages_no_wait"):
        assert callable(getattr(App, name, None)), name
    assert list(inspect.signature(App._fatal_error).parameters) == ["self"]
    assert "renderables" in inspect.signature(App.panic).parameters

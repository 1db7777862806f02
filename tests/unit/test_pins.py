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

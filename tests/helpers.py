"""Small builders shared by the tests."""

from __future__ import annotations

from pathlib import Path

from tui_reader.core.importer import import_paths
from tui_reader.core.store import NewDocument, Project
from tui_reader.core.text import text_sha256


def make_project(root: Path, texts: dict[str, str] | None = None) -> Project:
    """A new project holding ``texts`` (id -> canonical text) as plain-text documents."""
    project = Project.open(root / "db", create=True)
    if texts:
        project.add_documents(
            NewDocument(id=i, text=t, sha256=text_sha256(t), title=t.split("\n")[0][:40],
                        source=f"{i}.txt", kind="txt", styles=[], meta={})
            for i, t in texts.items()
        )
    return project


def project_from_folder(folder: Path, db: Path, annotator: str = "tester") -> Project:
    project = Project.open(db, create=True)
    import_paths(project, [folder], annotator)
    return project


def import_corpus(root: Path, files: dict[str, bytes], annotator: str = "importer") -> Project:
    """Write ``files`` (name -> raw bytes, e.g. with CRLF) into ``root/corpus`` and import them
    into a new project at ``root/db``."""
    folder = root / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return project_from_folder(folder, root / "db", annotator)


def stored_spans(db: Path, doc_id: str, annotator: str | None = None) -> list[tuple[int, int, str, str]]:
    """(start, end, label, annotator) of a document's spans, read back through a fresh Project."""
    project = Project.open(db)
    return [(s.start, s.end, s.label, s.annotator) for s in project.spans(doc_id, annotator)]


def fill_the_disk(monkeypatch) -> None:  # noqa: ANN001
    """Every write of the store fails as on a full disk (both ways a change reaches the disk:
    a journal line, or a new file)."""
    import errno

    from tui_reader.core import storage

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage, "write_json_atomic", disk_full)
    monkeypatch.setattr(storage, "append_at", disk_full)

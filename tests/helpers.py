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

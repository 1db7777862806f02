"""Search over the project's documents: titles, sources and texts."""

from __future__ import annotations

from .store import Project


def matching_documents(project: Project, query: str) -> set[str] | None:
    """Ids of the documents whose title, source or text holds ``query`` (case-folded); None for
    an empty query, which matches everything. Reads one document file at a time."""
    needle = query.strip().casefold()
    if not needle:
        return None
    matches: set[str] = set()
    for record in project.records():
        info = record.info
        if needle in f"{info.title}\n{info.source}\n{record.text}".casefold():
            matches.add(info.id)
    return matches

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
    for info, shard in project.iter_documents():
        text_row = next(iter(shard.get("document", {}).values()), {})
        haystack = f"{info.title}\n{info.source}\n{text_row.get('text', '')}".casefold()
        if needle in haystack:
            matches.add(info.id)
    return matches

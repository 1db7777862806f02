"""A real annotator process for the lease tests (run as a script, not imported).

claim DB NAME GO [label]   print "ready", wait for the file GO, then ask for the next article and
                           take its lease in one step (as the app does on start), print its id;
                           with "label", also label its first word (saved work, not finished)
"""

from __future__ import annotations

import os
import sys
import time

from tui_reader.core.session import AnnotationSession
from tui_reader.core.store import Project


def claim(db: str, name: str, go: str, label: bool) -> None:
    project = Project.open(db)
    session = AnnotationSession(project, name)
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    doc_id = session.claim_next()
    if doc_id is not None:
        session.open(doc_id)
        if label:
            session.label("claim", 0, 7)
    print(doc_id, flush=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "claim":
        claim(args[0], args[1], args[2], len(args) > 3 and args[3] == "label")

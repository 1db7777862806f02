"""Serving the app to remote annotators: an SSH front door (asyncssh) and a browser (textual-serve).

Nothing here is imported by ``tui-reader annotate``: the commands in :mod:`.commands` load asyncssh
and textual-serve only when they run.
"""

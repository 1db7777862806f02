"""Run a real program in a real pseudo-terminal and collect every byte it writes.

Used by the terminal-safety tests and by bench/bench_app.py (bytes per keystroke).
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time


class PtyApp:
    def __init__(self, args: list[str], cols: int = 120, rows: int = 40,
                 env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows),
                    **(env or {})}
        full_env.pop("TEXTUAL", None)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=full_env, cwd=cwd,
            start_new_session=True, close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()

    def read_for(self, seconds: float) -> bytes:
        """Everything written in the next ``seconds``."""
        got = bytearray()
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                got += chunk
        self.output += got
        return bytes(got)

    def read_until_quiet(self, quiet: float = 0.3, limit: float = 20.0) -> bytes:
        """Read until nothing arrives for ``quiet`` seconds (after at least one byte)."""
        got = bytearray()
        end = time.perf_counter() + limit
        last = None
        while time.perf_counter() < end:
            wait = quiet if last is not None else max(end - time.perf_counter(), 0)
            ready, _, _ = select.select([self.master], [], [], wait)
            if not ready:
                if last is not None:
                    break
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
            last = time.perf_counter()
        self.output += got
        return bytes(got)

    def first_output_after(self, marker: bytes, limit: float = 20.0) -> float:
        """Seconds from start until ``marker`` appears in the output."""
        end = time.perf_counter() + limit
        while marker not in self.output and time.perf_counter() < end:
            self.read_for(0.01)
        if marker not in self.output:
            raise TimeoutError(f"{marker!r} never appeared")
        return time.perf_counter() - self.started

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def resize(self, cols: int, rows: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def close(self, timeout: float = 10.0) -> int:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        try:
            while True:
                ready, _, _ = select.select([self.master], [], [], 0.05)
                if not ready:
                    break
                chunk = os.read(self.master, 65536)
                if not chunk:
                    break
                self.output += chunk
        except OSError:
            pass
        os.close(self.master)
        return self.proc.returncode


def tui_reader_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui_reader", *args]

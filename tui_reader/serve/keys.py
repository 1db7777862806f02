"""The SSH server's keys: annotators' public keys (authorized-keys file) and the host key."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from ..core.text import display_safe
from .common import ServeError, check_annotator_name

HOST_KEY_NAME = "ssh_host_ed25519_key"


@dataclass(frozen=True)
class AuthorizedKey:
    """One line of the authorized-keys file: a public key and the annotator it logs in as."""

    annotator: str
    fingerprint: str
    line: int


def read_authorized_keys(path: Path) -> tuple[dict[bytes, AuthorizedKey], list[str]]:
    """The keys of every good line of ``path``, and one message per line that is not good.

    The file is UTF-8; each line is ``TYPE BASE64 NAME`` and the name (the key's comment) may be
    any Unicode text without control characters. Blank lines and ``#`` comments are skipped. A
    key without a name, a line with options in front, a key listed under two names, a reserved
    name: each is a problem naming the file and the line, and that line gives no key.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, [f"{path}: authorized-keys file not found"]
    except OSError as err:
        return {}, [f"{path}: {err.strerror}"]
    keys: dict[bytes, AuthorizedKey] = {}
    problems: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        where = f"{path}, line {number}"
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as err:
            problems.append(f"{where}: not UTF-8 text (byte 0x{raw[err.start]:02x})")
            continue
        if not line or line.startswith("#"):
            continue
        try:
            keys_here = _parse_line(line, where, number)
        except ServeError as err:
            problems.append(str(err))
            continue
        blob, key = keys_here
        if blob in keys and keys[blob].annotator != key.annotator:
            problems.append(f"{where}: this key is already listed for {keys[blob].annotator!r} on "
                            f"line {keys[blob].line}; one key, one annotator")
            continue
        keys.setdefault(blob, key)
    return keys, problems


def _parse_line(line: str, where: str, number: int) -> tuple[bytes, AuthorizedKey]:
    parts = line.split(None, 2)
    try:
        if len(parts) < 2 or not parts[0].isascii() or not parts[1].isascii():
            raise ValueError
        key = asyncssh.import_public_key(f"{parts[0]} {parts[1]}\n")
    except (asyncssh.KeyImportError, ValueError):
        raise ServeError(
            f"{where}: not a public key in OpenSSH format (`ssh-ed25519 AAAA... NAME`; "
            "options such as restrict or command= are not read here)"
        ) from None
    comment = parts[2].strip() if len(parts) > 2 else ""
    if not comment:
        raise ServeError(
            f"{where}: the key has no comment; add the annotator's name after it "
            "(`ssh-ed25519 AAAA... alice`)"
        )
    name = check_annotator_name(comment, where)
    return key.public_data, AuthorizedKey(name, key.get_fingerprint(), number)


def load_authorized_keys(path: Path) -> dict[bytes, AuthorizedKey]:
    """Public key blob -> annotator; the first problem of the file as a :class:`ServeError`."""
    keys, problems = read_authorized_keys(path)
    if problems:
        raise ServeError(problems[0])
    return keys


class AuthorizedKeysFile:
    """The authorized-keys file, read again whenever it changes on disk (no restart to add someone).

    A changed file that has a problem fails closed: until it is fixed, only the keys that are in
    both the old and the new version (same key, same name) are served; new keys wait.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = self._stat()
        self.keys = load_authorized_keys(path)
        if not self.keys:
            raise ServeError(f"{path}: no keys in the authorized-keys file")

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def reload(self) -> list[str]:
        """Re-read the file if it changed; what changed and any problem, as log lines."""
        stamp = self._stat()
        if stamp == self._stamp:
            return []
        self._stamp = stamp
        old = self.keys
        new, problems = read_authorized_keys(self.path)
        lines = [f"authorized keys: {problem}" for problem in problems[:5]]
        if len(problems) > 5:
            lines.append(f"authorized keys: ... and {len(problems) - 5} more problems")
        if problems:
            self.keys = {blob: key for blob, key in old.items()
                         if blob in new and new[blob].annotator == key.annotator}
            lines.append(f"authorized keys: {self.path} has problems: serving only the "
                         f"{len(self.keys)} keys in both the old and the new version until it is fixed")
        else:
            self.keys = new
        now = self.keys
        dropped = [old[b] for b in old if b not in now or now[b].annotator != old[b].annotator]
        added = [now[b] for b in now if b not in old or old[b].annotator != now[b].annotator]
        if dropped:
            lines.append("authorized keys: dropped " + ", ".join(_named(k) for k in dropped))
        if added:
            lines.append("authorized keys: added " + ", ".join(_named(k) for k in added))
        return lines

    def lookup(self, key: asyncssh.SSHKey) -> AuthorizedKey | None:
        return self.keys.get(key.public_data)

    def holds(self, blob: bytes, annotator: str) -> bool:
        """Whether the key ``blob`` still logs in as ``annotator``."""
        found = self.keys.get(blob)
        return found is not None and found.annotator == annotator


def _named(key: AuthorizedKey) -> str:
    return f"{key.annotator} ({key.fingerprint})"


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The server's private host key at ``path``; generated (ed25519, mode 0600) when missing.

    Returns the key and whether it was made now. A key readable by others, or that cannot be
    read, is refused (as OpenSSH does) with a one-line :class:`ServeError`.
    """
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ServeError(f"{path}: the host key is readable by others (mode {mode:04o}); "
                             f"run `chmod 600 {path}`")
        try:
            return asyncssh.read_private_key(str(path)), False
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError) as err:
            raise ServeError(f"{path}: not a usable SSH private key ({display_safe(str(err))})") from None
        except OSError as err:
            raise ServeError(f"{path}: {err.strerror}") from None
    if not path.parent.is_dir():
        raise ServeError(f"{path}: its folder does not exist; cannot make the host key there")
    key = asyncssh.generate_private_key("ssh-ed25519", comment="tui-reader host key")
    data = key.export_private_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        raise ServeError(f"{path}: cannot write the host key ({err.strerror})") from None
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(path, 0o600)
    return key, True

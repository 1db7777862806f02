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


def load_authorized_keys(path: Path) -> dict[bytes, AuthorizedKey]:
    """Public key blob -> annotator, from an OpenSSH-format file whose key comments are names.

    Blank lines and ``#`` comments are skipped. A line that is not ``TYPE BASE64 NAME`` (a key
    without a comment, a key with options in front, an unreadable key) or a key listed twice
    under two names raises a :class:`ServeError` naming the file and the line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ServeError(f"{path}: authorized-keys file not found") from None
    except UnicodeDecodeError:
        raise ServeError(f"{path}: not a UTF-8 text file") from None
    except OSError as err:
        raise ServeError(f"{path}: {err.strerror}") from None
    keys: dict[bytes, AuthorizedKey] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}, line {number}"
        try:
            key = asyncssh.import_public_key(line + "\n")
        except (asyncssh.KeyImportError, ValueError):
            raise ServeError(
                f"{where}: not a public key in OpenSSH format (`ssh-ed25519 AAAA... NAME`; "
                "options such as restrict or command= are not read here)"
            ) from None
        comment = key.get_comment()
        if not comment:
            raise ServeError(
                f"{where}: the key has no comment; add the annotator's name after it "
                "(`ssh-ed25519 AAAA... alice`)"
            )
        name = check_annotator_name(comment, where)
        blob = key.public_data
        if blob in keys and keys[blob].annotator != name:
            raise ServeError(
                f"{where}: this key is already listed for {keys[blob].annotator!r} on line "
                f"{keys[blob].line}; one key, one annotator"
            )
        keys.setdefault(blob, AuthorizedKey(name, key.get_fingerprint(), number))
    return keys


class AuthorizedKeysFile:
    """The authorized-keys file, read again whenever it changes on disk (no restart to add someone).

    If a changed file no longer loads, the keys read before stay in force and ``reload`` returns
    the error for the log.
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

    def reload(self) -> str | None:
        """Re-read the file if it changed; the problem as one line when it could not be read."""
        stamp = self._stat()
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        try:
            self.keys = load_authorized_keys(self.path)
        except ServeError as err:
            return f"{err}; keeping the {len(self.keys)} keys read before"
        return None

    def lookup(self, key: asyncssh.SSHKey) -> AuthorizedKey | None:
        return self.keys.get(key.public_data)


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

"""The project's settings file, ``config.toml`` in the project folder: the label set and options."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .errors import StoreError
from .schema import DEFAULT_SCHEMA, Schema, parse_schema, schema_toml


@dataclass(frozen=True)
class Label:
    name: str
    key: str
    color: str
    description: str = ""


DEFAULT_LABELS = (
    Label("claim", "1", "#2e7d32", "A statement of fact that could be checked"),
    Label("quote", "2", "#1565c0", "Words attributed to a speaker or source"),
    Label("opinion", "3", "#ad1457", "A judgement, evaluation or prediction"),
    Label("boilerplate", "4", "#616161", "Navigation, share prompts, credits, ads: not the article"),
    Label("source", "5", "#ef6c00",
          "The person or organisation a quote, claim or opinion comes from"),
)

DEFAULT_CONFIG_TOML = """\
# tui-reader project settings. Edit and restart the app to apply.
# Each label: a name (used in exports), one key (1-9 or a letter not used by the app),
# a colour (#rrggbb) and a description shown in the label panel.
"""

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Keys the reading pane uses for motions and commands; a label cannot take them.
# tests/ui/test_keymap.py checks that every key of ui/keymap.py is here.
# c, t, T (relations, attributes, article labels), H and * are the app's too.
RESERVED_KEYS = (frozenset("hjklwbvsxudnpqarefgiGWUSoA0$?/(){}[]<> ctTH*")
                 | {"escape", "enter", "space", "tab"})
_SETTINGS = ("labels", "overlap", "suggest", "model_threshold", "ml_backend", "relations",
             "attributes", "article_labels", "guidelines", "control_every", "lease_minutes", "order")
ORDERS = ("corpus", "uncertain")  # the ways routing can order the queue


@dataclass(frozen=True)
class ProjectConfig:
    labels: tuple[Label, ...] = DEFAULT_LABELS
    overlap: int = 1  # annotators wanted per document
    suggest: bool = True  # show rule and model suggestions
    model_threshold: int = 50  # labelled sentences before the learned model starts
    schema: Schema = Schema()  # relations, attributes, article labels (none unless configured)
    ml_backend: str | None = None  # URL of a Label Studio ML backend to suggest with
    guidelines: str = "guidelines.md"  # the annotation guidelines, relative to the project folder
    control_every: int = 20  # one control document in every K articles an annotator finishes
    lease_minutes: float = 30.0  # how long opening an article holds it against other annotators
    order: str = "corpus"  # "uncertain": the learned model's least certain articles first
    path: Path | None = field(default=None, compare=False)

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    def label(self, name: str) -> Label | None:
        return next((label for label in self.labels if label.name == name), None)


def default_config_text() -> str:
    # Plain settings first: in TOML, keys after a [[labels]] header would belong to that label.
    lines = [
        DEFAULT_CONFIG_TOML,
        "# How many annotators should label each document.\noverlap = 1\n",
        "# Suggestions (rules, then a model learned from your labels once there are\n"
        "# model_threshold labelled sentences): true or false.\nsuggest = true\n"
        "model_threshold = 50\n",
        "# The annotation guidelines (Markdown, relative to this folder; H shows them).\n"
        'guidelines = "guidelines.md"\n',
        "# One control document (tui-reader control add) in every control_every articles\n"
        "# an annotator finishes.\ncontrol_every = 20\n",
        "# Opening an article holds it for lease_minutes (renewed while you work), so that\n"
        "# routing does not hand it to more than `overlap` annotators at once.\nlease_minutes = 30\n",
        '# The queue: "corpus" order, or "uncertain" (once the learned model exists, the\n'
        "# articles it is least sure about first).\n"
        'order = "corpus"\n',
    ]
    for label in DEFAULT_LABELS:
        lines.append(
            f'[[labels]]\nname = "{label.name}"\nkey = "{label.key}"\n'
            f'color = "{label.color}"\ndescription = "{label.description}"\n'
        )
    lines.append("# Relations between spans (c), span attributes (t) and article labels (T).\n"
                 "# See the README's \"Relations, attributes and article labels\".\n")
    lines.append(schema_toml(DEFAULT_SCHEMA))
    return "\n".join(lines)


def load_config(path: Path) -> ProjectConfig:
    """Read ``path``; defaults when it does not exist. Errors name the file and the problem."""
    if not path.exists():
        return ProjectConfig(path=None)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise StoreError(f"{path}: not valid TOML ({err})") from None
    unknown = sorted(set(data) - set(_SETTINGS))
    if unknown:
        raise StoreError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(_SETTINGS)})")
    raw_labels = data.get("labels")
    if raw_labels is None:
        labels = DEFAULT_LABELS
    else:
        if not isinstance(raw_labels, list) or not raw_labels:
            raise StoreError(f"{path}: 'labels' must be a non-empty list of [[labels]] tables")
        labels = tuple(_parse_label(path, i, item) for i, item in enumerate(raw_labels, 1))
        _check_unique(path, labels)
    overlap = data.get("overlap", 1)
    if not isinstance(overlap, int) or isinstance(overlap, bool) or overlap < 1:
        raise StoreError(f"{path}: 'overlap' must be a whole number of at least 1, not {overlap!r}")
    suggest = data.get("suggest", True)
    if not isinstance(suggest, bool):
        raise StoreError(f"{path}: 'suggest' must be true or false, not {suggest!r}")
    threshold = data.get("model_threshold", 50)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        raise StoreError(f"{path}: 'model_threshold' must be a whole number of at least 1")
    ml_backend = data.get("ml_backend")
    if ml_backend is not None and (not isinstance(ml_backend, str) or (
            ml_backend and not re.match(r"^https?://[^/\s]+", ml_backend))):
        raise StoreError(f"{path}: 'ml_backend' must be an http:// or https:// URL, e.g. "
                         f'"http://127.0.0.1:9090" (got {ml_backend!r})')
    guidelines = data.get("guidelines", "guidelines.md")
    if not isinstance(guidelines, str) or not guidelines.strip() or "\x00" in guidelines:
        raise StoreError(f"{path}: 'guidelines' must be a file name, e.g. \"guidelines.md\" "
                         f"(got {guidelines!r})")
    control_every = data.get("control_every", 20)
    if not isinstance(control_every, int) or isinstance(control_every, bool) or control_every < 1:
        raise StoreError(f"{path}: 'control_every' must be a whole number of at least 1, "
                         f"not {control_every!r}")
    lease_minutes = data.get("lease_minutes", 30)
    if (not isinstance(lease_minutes, (int, float)) or isinstance(lease_minutes, bool)
            or not 0 < lease_minutes <= 7 * 24 * 60):
        raise StoreError(f"{path}: 'lease_minutes' must be a number of minutes above 0 (at most a "
                         f"week), not {lease_minutes!r}")
    order = data.get("order", "corpus")
    if order not in ORDERS:
        raise StoreError(f"{path}: 'order' must be one of {', '.join(map(repr, ORDERS))}, "
                         f"not {order!r}")
    taken = set(RESERVED_KEYS) | {label.key for label in labels}
    schema = parse_schema(path, data, tuple(label.name for label in labels), taken)
    return ProjectConfig(labels=labels, overlap=overlap, suggest=suggest, model_threshold=threshold,
                         schema=schema, ml_backend=ml_backend or None, guidelines=guidelines,
                         control_every=control_every, lease_minutes=float(lease_minutes),
                         order=order, path=path)


def _parse_label(path: Path, index: int, item: object) -> Label:
    if not isinstance(item, dict):
        raise StoreError(f"{path}: label {index} must be a table with name, key and color")
    name = item.get("name")
    unknown = sorted(set(item) - {"name", "key", "color", "description"})
    if unknown:
        raise StoreError(f"{path}: label {index} has unknown setting {unknown[0]!r} (settings such as "
                         "overlap go above the first [[labels]])")
    if not isinstance(name, str) or not _NAME.match(name):
        raise StoreError(
            f"{path}: label {index} needs a name of letters, digits, '_', '.', ':' or '-' (got {name!r})"
        )
    key = item.get("key", str(index) if index <= 9 else None)
    if not isinstance(key, str) or len(key) != 1 or key in RESERVED_KEYS or not key.isprintable():
        raise StoreError(
            f"{path}: label '{name}' needs one key that the app does not use (got {key!r})"
        )
    color = item.get("color", "#808080")
    if not isinstance(color, str) or not _COLOR.match(color):
        raise StoreError(f"{path}: label '{name}' colour must look like #1565c0 (got {color!r})")
    description = item.get("description", "")
    if not isinstance(description, str):
        raise StoreError(f"{path}: label '{name}' description must be text")
    return Label(name, key, color.lower(), description)


def _check_unique(path: Path, labels: tuple[Label, ...]) -> None:
    for attr in ("name", "key"):
        seen: set[str] = set()
        for label in labels:
            value = getattr(label, attr)
            if value in seen:
                raise StoreError(f"{path}: two labels share the {attr} {value!r}")
            seen.add(value)

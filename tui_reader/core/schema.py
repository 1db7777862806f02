"""What a project lets annotators say beyond span labels: relations between spans, attributes of
spans, and labels of the article as a whole. Read from ``config.toml`` (see config.py)::

    [[relations]]
    name = "attributed_to"
    description = "The quote, claim or opinion comes from this source"
    heads = ["quote", "claim", "opinion"]      # labels the relation may start from
    children = ["source"]                      # labels it may point to
    directed = true                            # false: a link, head and child unordered
    key = ""                                   # optional: a key that makes it directly

    [[attributes]]
    name = "kind"
    labels = ["quote"]                         # the span labels it applies to
    type = "choice"                            # "choice", "yes/no" or "text"
    values = ["direct", "indirect"]            # choice only, in order (key 1 = first)
    description = "Direct (in quotation marks) or indirect (reported) speech"

    [[article_labels]]
    group = "genre"
    values = ["news report", "opinion piece", "press release", "other"]
    multiple = false                           # true: any number of values
    description = "What kind of article this is"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .errors import InputError, StoreError

AttributeKind = Literal["choice", "yes/no", "text"]
ATTRIBUTE_KINDS: tuple[AttributeKind, ...] = ("choice", "yes/no", "text")
AttributeValue = str | bool
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$")
MAX_VALUE = 200  # characters of a choice value or a text attribute


@dataclass(frozen=True)
class RelationType:
    name: str
    heads: tuple[str, ...]  # span labels a relation of this type may start from
    children: tuple[str, ...]  # span labels it may point to
    directed: bool = True
    description: str = ""
    key: str = ""

    def fits(self, head_label: str, child_label: str) -> bool:
        return head_label in self.heads and child_label in self.children


@dataclass(frozen=True)
class AttributeType:
    name: str
    labels: tuple[str, ...]  # span labels it applies to
    kind: AttributeKind
    values: tuple[str, ...] = ()  # a choice's values, in order
    description: str = ""

    def check(self, value: object) -> AttributeValue:
        """``value`` if it is one this attribute takes; else an InputError naming what it takes."""
        if self.kind == "choice":
            if value not in self.values:
                raise InputError(f"{self.name} takes one of {', '.join(self.values)}, not {value!r}")
            return str(value)
        if self.kind == "yes/no":
            if not isinstance(value, bool):
                raise InputError(f"{self.name} is yes or no (true or false), not {value!r}")
            return value
        if not isinstance(value, str) or len(value) > MAX_VALUE or "\n" in value:
            raise InputError(f"{self.name} takes one line of text of at most {MAX_VALUE} characters")
        return value


@dataclass(frozen=True)
class ArticleLabelGroup:
    group: str
    values: tuple[str, ...]
    multiple: bool = False
    description: str = ""


@dataclass(frozen=True)
class Schema:
    relations: tuple[RelationType, ...] = ()
    attributes: tuple[AttributeType, ...] = ()
    article_labels: tuple[ArticleLabelGroup, ...] = ()

    def relation(self, name: str) -> RelationType | None:
        return next((r for r in self.relations if r.name == name), None)

    def attribute(self, name: str) -> AttributeType | None:
        return next((a for a in self.attributes if a.name == name), None)

    def attributes_of(self, label: str) -> tuple[AttributeType, ...]:
        return tuple(a for a in self.attributes if label in a.labels)

    def article_group(self, group: str) -> ArticleLabelGroup | None:
        return next((g for g in self.article_labels if g.group == group), None)

    def relations_between(self, first: str, second: str) -> list[tuple[RelationType, bool]]:
        """The relation types a span labelled ``first`` and one labelled ``second`` may be linked
        by, each with whether ``first`` is the head (True) or the child (False)."""
        out: list[tuple[RelationType, bool]] = []
        for relation in self.relations:
            if relation.fits(first, second):
                out.append((relation, True))
            if relation.fits(second, first) and (relation.directed or not relation.fits(first, second)):
                out.append((relation, False))
        return out


DEFAULT_SCHEMA = Schema(
    relations=(RelationType(
        "attributed_to", heads=("quote", "claim", "opinion"), children=("source",),
        description="The quote, claim or opinion comes from this source"),),
    attributes=(AttributeType(
        "kind", labels=("quote",), kind="choice", values=("direct", "indirect"),
        description="Direct (the speaker's words) or indirect (reported) speech"),),
    article_labels=(ArticleLabelGroup(
        "genre", values=("news report", "opinion piece", "press release", "other"),
        description="What kind of article this is"),),
)


def schema_toml(schema: Schema) -> str:
    """``schema`` as config.toml entries (what a new project's config gets)."""

    def strings(values: tuple[str, ...]) -> str:
        return "[" + ", ".join(_quoted(v) for v in values) + "]"

    out: list[str] = []
    for r in schema.relations:
        out.append(f"[[relations]]\nname = {_quoted(r.name)}\nheads = {strings(r.heads)}\n"
                   f"children = {strings(r.children)}\ndirected = {str(r.directed).lower()}\n"
                   f"description = {_quoted(r.description)}\n")
    for a in schema.attributes:
        values = f"values = {strings(a.values)}\n" if a.kind == "choice" else ""
        out.append(f"[[attributes]]\nname = {_quoted(a.name)}\nlabels = {strings(a.labels)}\n"
                   f"type = {_quoted(a.kind)}\n{values}description = {_quoted(a.description)}\n")
    for g in schema.article_labels:
        out.append(f"[[article_labels]]\ngroup = {_quoted(g.group)}\nvalues = {strings(g.values)}\n"
                   f"multiple = {str(g.multiple).lower()}\ndescription = {_quoted(g.description)}\n")
    return "\n".join(out)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------------------ reading
def parse_schema(path: Path, data: dict[str, Any], labels: tuple[str, ...],
                 taken_keys: set[str]) -> Schema:
    """The schema entries of a parsed config.toml; StoreError naming the file and the entry."""
    relations = tuple(_relation(path, i, item, labels, taken_keys)
                      for i, item in enumerate(_tables(path, data, "relations"), 1))
    attributes = tuple(_attribute(path, i, item, labels)
                       for i, item in enumerate(_tables(path, data, "attributes"), 1))
    groups = tuple(_group(path, i, item) for i, item in enumerate(_tables(path, data, "article_labels"), 1))
    for kind, names in (("relations", [r.name for r in relations]),
                        ("attributes", [a.name for a in attributes]),
                        ("article_labels", [g.group for g in groups])):
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise StoreError(f"{path}: two {kind} are named {twice[0]!r}")
    return Schema(relations, attributes, groups)


def _tables(path: Path, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise StoreError(f"{path}: '{key}' must be a list of [[{key}]] tables")
    return items


def _known(path: Path, what: str, item: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise StoreError(f"{path}: {what} has unknown setting {unknown[0]!r} "
                         f"(known: {', '.join(sorted(allowed))})")


def _name(path: Path, what: str, value: object) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise StoreError(f"{path}: {what} needs a name of letters, digits, '_', '.', ':' or '-' "
                         f"(got {value!r})")
    return value


def _text(path: Path, what: str, value: object) -> str:
    if not isinstance(value, str):
        raise StoreError(f"{path}: {what} description must be text")
    return value


def _label_list(path: Path, what: str, value: object, labels: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise StoreError(f"{path}: {what} needs a non-empty list of span labels")
    unknown = [v for v in value if v not in labels]
    if unknown:
        raise StoreError(f"{path}: {what} names {unknown[0]!r}, which is not a label "
                         f"(labels: {', '.join(labels)})")
    return tuple(value)


def _values(path: Path, what: str, value: object) -> tuple[str, ...]:
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, str) and v.strip() and len(v) <= MAX_VALUE and v.isprintable()
                       for v in value)):
        raise StoreError(f"{path}: {what} needs a non-empty list of values (one line of text each)")
    if len(set(value)) != len(value):
        raise StoreError(f"{path}: {what} lists a value twice")
    if len(value) > 9:
        raise StoreError(f"{path}: {what} has more than 9 values (keys 1-9 choose them)")
    return tuple(value)


def _relation(path: Path, index: int, item: dict[str, Any], labels: tuple[str, ...],
              taken_keys: set[str]) -> RelationType:
    _known(path, f"relation {index}", item,
           {"name", "heads", "children", "directed", "description", "key"})
    name = _name(path, f"relation {index}", item.get("name"))
    what = f"relation '{name}'"
    directed = item.get("directed", True)
    if not isinstance(directed, bool):
        raise StoreError(f"{path}: {what}: 'directed' must be true or false")
    key = item.get("key", "")
    if not isinstance(key, str) or len(key) > 1 or (key and (key in taken_keys or not key.isprintable())):
        raise StoreError(f"{path}: {what} needs one key that the app and the labels do not use, "
                         f"or none (got {key!r})")
    if key:
        taken_keys.add(key)
    return RelationType(name, _label_list(path, f"{what} heads", item.get("heads"), labels),
                        _label_list(path, f"{what} children", item.get("children"), labels),
                        directed, _text(path, what, item.get("description", "")), key)


def _attribute(path: Path, index: int, item: dict[str, Any], labels: tuple[str, ...]) -> AttributeType:
    _known(path, f"attribute {index}", item, {"name", "labels", "type", "values", "description"})
    name = _name(path, f"attribute {index}", item.get("name"))
    what = f"attribute '{name}'"
    kind = item.get("type", "choice")
    if kind not in ATTRIBUTE_KINDS:
        raise StoreError(f"{path}: {what} type must be one of {', '.join(ATTRIBUTE_KINDS)} (got {kind!r})")
    values: tuple[str, ...] = ()
    if kind == "choice":
        values = _values(path, f"{what} values", item.get("values"))
    elif "values" in item:
        raise StoreError(f"{path}: {what} of type {kind} takes no values")
    return AttributeType(name, _label_list(path, f"{what} labels", item.get("labels"), labels), kind,
                         values, _text(path, what, item.get("description", "")))


def _group(path: Path, index: int, item: dict[str, Any]) -> ArticleLabelGroup:
    _known(path, f"article label group {index}", item, {"group", "values", "multiple", "description"})
    group = _name(path, f"article label group {index}", item.get("group"))
    what = f"article label group '{group}'"
    multiple = item.get("multiple", False)
    if not isinstance(multiple, bool):
        raise StoreError(f"{path}: {what}: 'multiple' must be true or false")
    return ArticleLabelGroup(group, _values(path, f"{what} values", item.get("values")), multiple,
                             _text(path, what, item.get("description", "")))

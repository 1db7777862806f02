"""Dataset export: one call from a project to a file or folder in any of the formats.

:func:`export_dataset` reads the documents (:func:`dataset.export_docs`: filter, gold policy),
routes each to its split (:func:`dataset.assign_split`), streams it to that split's writer, and
puts the output in place only when everything succeeded (a folder is built under a temporary name
beside the target and renamed at the end; a file is written to a temporary name and renamed).

Layout:

- one file (``target``) for a file format without ``split``;
- a folder (``target``) otherwise: ``<split><suffix>`` per split (``train.jsonl``, ...; brat:
  ``<split>/``), ``README.md`` (the dataset card), ``labels.json`` and, when the project has
  guidelines, ``guidelines.md``. ``hf`` is
  always a folder (without ``split`` its one split is ``train``); brat without split puts its
  files directly in ``target``. An empty ``hf`` split has no file (``datasets`` cannot load an
  empty JSON file); the card leaves it out.

A folder target that exists and is not empty is refused unless ``overwrite``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..store import Project
from .base import ExportReport, Writer, WriterOptions
from .dataset import ExportDoc, ExportFilter, GoldPolicy, assign_split, export_docs, parse_gold, parse_split
from .guidelines import FILE_NAME as GUIDELINES_FILE
from .hf import labels_json
from .registry import Format, get_format
from .tokens import tokenizer_name


def is_folder_export(fmt: Format, split: str | None) -> bool:
    return bool(split) or fmt.always_folder


def export_dataset(
    project: Project,
    fmt: str,
    target: str | os.PathLike[str],
    *,
    flt: ExportFilter | None = None,
    gold: GoldPolicy | str | None = None,
    min_agree: int | None = None,
    split: str | None = None,
    seed: int = 0,
    strict: bool = False,
    lang: str = "en",
    overwrite: bool = False,
    card: bool = True,
    extra: dict[str, Any] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ExportReport:
    """Export ``project`` as ``fmt`` (a name in the format registry) to ``target`` (``-``: stdout,
    for a file format without a split).

    ``gold``: a :class:`GoldPolicy` or its spec (``annotator:NAME``, ``union``, ``majority``,
    ``adjudicated``; ``min_agree`` with majority). ``split``: ``"train=0.8,dev=0.1,test=0.1"``
    with ``seed``. ``strict``: any loss raises :class:`ExportLossError` and nothing is written.
    Raises InputError (one line) for bad options, a single-layer format meeting several
    annotators without a gold policy, or an existing non-empty folder without ``overwrite``.
    """
    form = get_format(fmt)
    policy = parse_gold(gold, min_agree) if isinstance(gold, str) or gold is None else gold
    if isinstance(gold, GoldPolicy) and min_agree is not None:
        raise InputError("pass min_agree inside the GoldPolicy")
    parts = parse_split(split) if split else None
    flt = flt or ExportFilter()
    flt.check(project)
    target = Path(target)
    folder = is_folder_export(form, split)
    options = WriterOptions(
        strict=strict, lang=lang, labels=project.config.label_names, schema=project.config.schema,
        dataset=project.root.resolve().parent.name or "tui-reader", extra=dict(extra or {}),
    )
    report = ExportReport(fmt=fmt, target=target)
    report.options = {
        "format": fmt, "gold": policy.name if policy else None, "annotator": flt.annotator,
        "labels": list(flt.labels), "status": flt.status, "all_documents": flt.all_documents,
        "include_controls": flt.include_controls, "split": split,
        "seed": seed if split else None, "strict": strict, "lang": lang,
        "tokenizer": tokenizer_name(lang) if form.tokenized else None,
        "license": options.extra.get("license"),
    }
    if str(target) == "-" and (folder or not form.to_stdout):
        raise InputError(f"-o - writes native JSONL only; give a file or folder for {fmt}"
                         + (" with --split" if split else ""))
    if folder:
        if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not overwrite)):
            raise InputError(
                f"{target} exists and is not an empty folder; choose a new folder (or overwrite it)"
            )
        staging = target.with_name(f".tmp-{target.name}-{uuid.uuid4().hex[:8]}")
        staging.mkdir(parents=True)
    else:
        if target.is_dir():
            raise InputError(f"{target} is a folder: {fmt} without --split writes one file; name it")
        staging = None
    writers: dict[str, Writer] = {}

    def writer_for(name: str) -> Writer:
        writer = writers.get(name)
        if writer is None:
            if staging is None:
                writer = form.open(target, options)
            elif form.writes_folder:
                writer = form.open(staging / name if name else staging, options, atomic=False)
            else:
                writer = form.open(staging / form.split_file(name or "train"), options, atomic=False)
            writers[name] = writer
        return writer

    try:
        # A folder of files without --split: its one split is "train" (the Hub's default).
        default_split = "train" if folder and not form.writes_folder and not parts else ""
        for name, _ in parts or ():
            writer_for(name)  # every split gets its file, even an empty one
        if not parts:
            writer_for(default_split)
        for doc in export_docs(project, flt, policy, skipped=report.skipped):
            if on_progress is not None:
                on_progress(1)
            name = assign_split(doc.id, parts, seed) if parts else default_split
            writer_for(name).write(doc)
            report.sources[_source_folder(doc)] += 1
        for name, writer in writers.items():
            split_report = writer.close()
            if form.drop_empty_splits and split_report.documents == 0 and staging is not None:
                # datasets cannot load an empty JSON file: an empty split has no file
                for path in split_report.files:
                    path.unlink()
                split_report.files = []
                split_report.notices[f"split {name} is empty: no file written"] += 1
            report.splits[name] = split_report
            report.total.merge(split_report)
        if staging is not None:
            for split_report in report.splits.values():
                split_report.files = [target / p.relative_to(staging) for p in split_report.files]
            report.total.files = [p for r in report.splits.values() for p in r.files]
            # Every folder export names its labels (the Hugging Face layout expects it).
            labels = [(label.name, label.description) for label in project.config.labels]
            (staging / "labels.json").write_text(labels_json(labels, project.config.schema),
                                                 encoding="utf-8")
            guidelines = project.guidelines()
            if guidelines is not None:  # the annotators' instructions travel with the data
                (staging / GUIDELINES_FILE).write_text(guidelines, encoding="utf-8")
            if card:
                from .card import dataset_card

                (staging / "README.md").write_text(
                    dataset_card(project, report), encoding="utf-8"
                )
            _put_in_place(staging, target)
            report.files = sorted(p for p in target.rglob("*") if p.is_file())
        else:
            report.files = [target]
    except BaseException:
        for writer in writers.values():
            writer.abort()
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def _source_folder(doc: ExportDoc) -> str:
    source = str(doc.meta.get("source") or "")
    return str(Path(source).parent) if source else "(no source)"


def _put_in_place(staging: Path, target: Path) -> None:
    if target.exists():
        old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


__all__ = ["ExportReport", "export_dataset", "is_folder_export"]

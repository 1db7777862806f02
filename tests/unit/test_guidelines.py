"""Guidelines: the ``guidelines`` setting, ``Project.guidelines()``, and the dataset cards that
name them and include (or link) them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import make_project
from tui_reader.core.config import load_config
from tui_reader.core.errors import StoreError
from tui_reader.core.formats.export import export_dataset
from tui_reader.core.formats.guidelines import INLINE_LIMIT, demoted
from tui_reader.core.store import MAX_GUIDELINES_BYTES, Project

GUIDE = "# Guidelines\r\n\r\nLabel **quotes** with their marks.\r\n\r\n## Claims\r\n\r\nCheckable facts.\r\n"


def _project(tmp_path: Path) -> Project:
    project = make_project(tmp_path, {"a": "The minister said it works. It does."})
    project.add_span("a", 0, 27, "claim", "ana")
    return project


def test_no_file_means_no_guidelines_and_the_card_says_so(tmp_path):
    project = _project(tmp_path)
    assert project.config.guidelines == "guidelines.md"
    assert project.guidelines() is None
    export_dataset(project, "jsonl", tmp_path / "out", split="train=1")
    assert not (tmp_path / "out" / "guidelines.md").exists()
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "## Guidelines" in card and "no guidelines file" in card


def test_guidelines_are_read_as_utf8_markdown_with_lf_newlines(tmp_path):
    project = _project(tmp_path)
    (project.root / "guidelines.md").write_bytes(b"\xef\xbb\xbf" + GUIDE.encode("utf-8"))
    text = project.guidelines()
    assert text == GUIDE.replace("\r\n", "\n")
    (project.root / "guidelines.md").write_text(" \n\n", encoding="utf-8")
    assert project.guidelines() is None  # an empty file: nothing to show


def test_the_path_is_a_setting_relative_to_the_project_folder(tmp_path):
    project = _project(tmp_path)
    config = project.root / "config.toml"
    text = config.read_text(encoding="utf-8")
    assert 'guidelines = "guidelines.md"' in text  # a new project's config.toml names it
    config.write_text(text.replace('guidelines = "guidelines.md"', 'guidelines = "team/how-to.md"'),
                      encoding="utf-8")
    (project.root / "team").mkdir()
    (project.root / "team" / "how-to.md").write_text("Read twice.", encoding="utf-8")
    (project.root / "guidelines.md").write_text("Not these.", encoding="utf-8")
    project = Project.open(project.root)
    assert project.guidelines() == "Read twice."


@pytest.mark.parametrize("value", ["''", "3", "['a.md']"])
def test_a_bad_setting_is_named(tmp_path, value):
    path = tmp_path / "config.toml"
    path.write_text(f"guidelines = {value}\n", encoding="utf-8")
    with pytest.raises(StoreError, match="'guidelines' must be a file name"):
        load_config(path)


def test_guidelines_that_are_not_utf8_are_one_clear_error(tmp_path):
    project = _project(tmp_path)
    (project.root / "guidelines.md").write_bytes("Règles".encode("latin-1"))
    with pytest.raises(StoreError, match=r"guidelines.md: the guidelines are not UTF-8 text"):
        project.guidelines()
    (project.root / "guidelines.md").unlink()
    (project.root / "guidelines.md").mkdir()
    with pytest.raises(StoreError, match="a folder where the guidelines"):
        project.guidelines()


def test_the_card_includes_short_guidelines_and_the_folder_holds_them(tmp_path):
    project = _project(tmp_path)
    (project.root / "guidelines.md").write_text(GUIDE, encoding="utf-8")
    export_dataset(project, "jsonl", tmp_path / "out", split="train=1")
    assert (tmp_path / "out" / "guidelines.md").read_text(encoding="utf-8") == project.guidelines()
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    section = card.split("## Guidelines\n", 1)[1].split("\n## ", 1)[0]
    assert "`guidelines.md`" in section and "They follow in full" in section
    assert "### Guidelines\n" in section and "#### Claims\n" in section  # under the card's own
    assert "Label **quotes** with their marks." in section
    assert "- `guidelines.md`: the annotation guidelines" in card


def test_long_guidelines_are_linked_not_repeated(tmp_path):
    project = _project(tmp_path)
    long = "# Guide\n\n" + "A rule about quotes. " * (INLINE_LIMIT // 20)
    (project.root / "guidelines.md").write_text(long, encoding="utf-8")
    export_dataset(project, "jsonl", tmp_path / "out", split="train=1")
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "A rule about quotes." not in card
    assert "[`guidelines.md`](guidelines.md)" in card and "linked rather than repeated" in card
    assert (tmp_path / "out" / "guidelines.md").read_text(encoding="utf-8") == long


def test_the_hub_card_names_and_includes_the_guidelines(tmp_path):
    pytest.importorskip("pyarrow", reason="the hf format writes Parquet with pyarrow")
    project = _project(tmp_path)
    (project.root / "guidelines.md").write_text(GUIDE, encoding="utf-8")
    export_dataset(project, "hf", tmp_path / "hub")
    card = (tmp_path / "hub" / "README.md").read_text(encoding="utf-8")
    annotations = card.split("## Annotations\n", 1)[1].split("\n## ", 1)[0]
    assert "### Guidelines" in annotations and "Checkable facts." in annotations
    assert (tmp_path / "hub" / "guidelines.md").exists()


def test_demoting_headings_leaves_code_blocks_alone():
    text = "# Top\n```\n# not a heading\n```\n###### Deep\n#hashtag"
    assert demoted(text) == "### Top\n```\n# not a heading\n```\n###### Deep\n#hashtag"


def test_guidelines_over_a_megabyte_are_refused_by_name(tmp_path):
    project = _project(tmp_path)
    (project.root / "guidelines.md").write_bytes(b"x" * (MAX_GUIDELINES_BYTES + 1))
    with pytest.raises(StoreError, match="guidelines over 1,000,000 bytes"):
        project.guidelines()
    (project.root / "guidelines.md").write_bytes(b"x" * MAX_GUIDELINES_BYTES)
    assert len(project.guidelines()) == MAX_GUIDELINES_BYTES

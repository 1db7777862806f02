"""The settings of issue 15 in config.toml: defaults, the file a new project gets, bad values."""

from __future__ import annotations

import pytest

from tui_reader.core.config import ProjectConfig, default_config_text, load_config
from tui_reader.core.errors import StoreError


def test_defaults_and_a_new_projects_file():
    config = ProjectConfig()
    assert (config.guidelines, config.control_every, config.lease_minutes, config.order) == (
        "guidelines.md", 20, 30.0, "corpus")
    text = default_config_text()
    for line in ('guidelines = "guidelines.md"', "control_every = 20", "lease_minutes = 30",
                 'order = "corpus"'):
        assert f"\n{line}\n" in text


def test_a_config_without_them_gets_the_defaults(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("overlap = 2\n", encoding="utf-8")
    config = load_config(path)
    assert (config.control_every, config.lease_minutes, config.order) == (20, 30.0, "corpus")


def test_values_are_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('control_every = 5\nlease_minutes = 2.5\norder = "uncertain"\n', encoding="utf-8")
    config = load_config(path)
    assert (config.control_every, config.lease_minutes, config.order) == (5, 2.5, "uncertain")


@pytest.mark.parametrize("line, message", [
    ("control_every = 0", "'control_every' must be a whole number of at least 1"),
    ("control_every = 2.5", "'control_every' must be a whole number"),
    ("control_every = true", "'control_every' must be a whole number"),
    ("lease_minutes = 0", "'lease_minutes' must be a number of minutes above 0"),
    ("lease_minutes = -3", "'lease_minutes' must be a number of minutes above 0"),
    ('lease_minutes = "30"', "'lease_minutes' must be a number"),
    ("lease_minutes = 20000", "at most a week"),
    ('order = "random"', "'order' must be one of 'corpus', 'uncertain'"),
])
def test_bad_values_are_named_in_one_line(tmp_path, line, message):
    path = tmp_path / "config.toml"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(StoreError, match=message) as caught:
        load_config(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)

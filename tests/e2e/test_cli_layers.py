"""The command line as a layer: every command reachable both ways, documented, and the one
error family (a problem a user can fix: one line, exit 2; anything else: a traceback)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tui_reader.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
TUI_READER = Path(sys.executable).parent / "tui-reader"


def _listed(help_text: str) -> list[str]:
    section = help_text.split("Commands:", 1)[1]
    return re.findall(r"^  (\S+)", section, flags=re.MULTILINE)


def test_both_entry_points_list_every_command():
    via_module = subprocess.run([sys.executable, "-m", "tui_reader.cli", "--help"],
                                capture_output=True, text=True, check=True).stdout
    via_script = subprocess.run([str(TUI_READER), "--help"], capture_output=True, text=True,
                                check=True).stdout
    assert _listed(via_module) == _listed(via_script) == list(COMMANDS)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_answers_help_from_the_cli_module(command):
    result = subprocess.run([sys.executable, "-m", "tui_reader.cli", command, "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"{command} [OPTIONS]" in result.stdout


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"`tui-reader {command}" in readme, command


def _stats_raising(error: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``tui-reader stats`` on a real project, with project_stats made to raise ``error``."""
    subprocess.run([str(TUI_READER), "import", str(ROOT / "sample_corpus" / next(
        p.name for p in sorted((ROOT / "sample_corpus").iterdir()) if p.suffix == ".md")),
        "--db", str(tmp_path / "db")], capture_output=True, check=True)
    code = (
        "import sys, tui_reader.core.stats as stats\n"
        "from tui_reader.core.errors import InputError\n"
        f"def broken(project):\n    raise {error}\n"
        "stats.project_stats = broken\n"
        "from tui_reader.cli import main\n"
        "sys.argv = ['tui-reader', 'stats', '--db', sys.argv[1]]\n"
        "main()\n"
    )
    return subprocess.run([sys.executable, "-c", code, str(tmp_path / "db")], capture_output=True,
                          text=True)


def test_a_problem_the_user_can_fix_is_one_line_and_status_2(tmp_path):
    result = _stats_raising("InputError('unknown label \\'x\\'')", tmp_path)
    assert result.returncode == 2
    assert result.stderr == "tui-reader: unknown label 'x'\n"


def test_a_bug_shows_its_traceback(tmp_path):
    result = _stats_raising("KeyError('mistyped')", tmp_path)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "KeyError: 'mistyped'" in result.stderr


@pytest.mark.parametrize("args", [
    ["annotate", "--annotator", "gold"], ["import", "x", "--annotator", "union"],
    ["review", "--reviewer", "gold"], ["annotate", "--annotator", "a\x1bb"],
])
def test_names_the_tool_keeps_or_hostile_names_are_refused_in_one_line(args, tmp_path):
    result = subprocess.run([str(TUI_READER), *args], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tui-reader: --")
    assert "\x1b" not in result.stderr
    assert not (tmp_path / ".tui-reader").exists()


def test_a_corpus_that_is_not_there_makes_no_project(tmp_path):
    result = subprocess.run([str(TUI_READER), "annotate", "no-such-folder"], capture_output=True,
                            text=True, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "tui-reader: no-such-folder: no such file or folder\n")
    assert list(tmp_path.iterdir()) == []


def test_a_bad_model_server_url_is_refused_in_one_line(tmp_path):
    (tmp_path / "a.txt").write_text("One sentence.", encoding="utf-8")
    result = subprocess.run([str(TUI_READER), "annotate", str(tmp_path / "a.txt"), "--ml-backend",
                             "ftp://nowhere"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "ftp://nowhere" in result.stderr
    assert not (tmp_path / ".tui-reader").exists()  # refused before anything was imported

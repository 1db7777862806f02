"""The README's two commands are the ones that work: CI runs the test one, exactly."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[str]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    return [lines[i + 1] for i, line in enumerate(lines) if line.strip() == "```sh"][:2]


def test_ci_runs_exactly_the_readme_test_command():
    install_and_open, test = _commands()
    assert "tui-reader annotate sample_corpus/" in install_and_open
    assert "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci
    assert "set -euo pipefail" in ci


def test_the_sample_corpus_is_the_five_seed_articles():
    names = sorted(p.name for p in (ROOT / "sample_corpus").iterdir() if not p.name.startswith("."))
    assert len(names) == 5 and names[0].endswith(".md")


def test_the_python_api_example_runs(tmp_path):
    import shutil
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    shutil.copytree(ROOT / "sample_corpus", tmp_path / "sample_corpus",
                    ignore=shutil.ignore_patterns(".tui-reader"))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("done [")  # status_of, then alice's spans
    assert (tmp_path / "out.jsonl").read_text().count("\n") == 1
    assert {"README.md", "labels.json"} <= {p.name for p in (tmp_path / "dataset").iterdir()}

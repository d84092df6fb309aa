"""Every code block of the README runs in a test, so the README cannot drift from the code.

- ```python blocks run as they are, in a subprocess, in a scratch directory.
- ```bash blocks: every command is checked by its own parser with the README's exact flags
  (train.py by its tyro parser and the run validation; the argparse CLIs by parsing their
  arguments and stopping there), run directories replaced by real ones written by train.py.
  Cheap commands (the render demo) run for real. The install and test commands are what
  `.ci/run` runs, so they are not repeated here. A command this test does not know fails it.
- The sample progress line has the fields, in order, of the line train.py prints.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shlex
import subprocess
import sys

import pytest

from agents.cli import train as train_cli_module
from agents.runner import prepare

from conftest import ROOT, cli_env

README = os.path.join(ROOT, "README.md")


def fenced() -> list[tuple[str, str]]:
    """(language, text) of every fenced block of the README, in order."""
    out, language, lines = [], None, []
    for line in open(README, encoding="utf-8").read().splitlines():
        if line.startswith("```"):
            if language is None:
                language, lines = line[3:].strip(), []
            else:
                out.append((language, "\n".join(lines) + "\n"))
                language = None
        elif language is not None:
            lines.append(line)
    assert language is None, "README has an unclosed code fence"
    return out


def blocks(language: str) -> list[str]:
    return [text for lang, text in fenced() if lang == language]


def commands() -> list[str]:
    """The shell commands of the README's bash blocks (comments dropped, `&&` split, lines
    ending in a backslash joined to the next)."""
    out = []
    for block in blocks("bash"):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                out += [c.strip() for c in line.split("&&")]
    return out


# Commands that .ci/run itself runs on a clean checkout (the README's first two commands).
RUN_BY_CI = {'pip install -e ".[dev]"', "pytest"}


class _Parsed(Exception):
    pass


def _parse_only(module: str, argv: list[str]) -> None:
    """Run an argparse CLI's main(argv) up to the end of argument parsing: bad flags exit 2
    (argparse's error), good ones raise _Parsed."""
    original = argparse.ArgumentParser.parse_args

    def parse_and_stop(self, args=None, namespace=None):
        original(self, args, namespace)
        raise _Parsed

    argparse.ArgumentParser.parse_args = parse_and_stop
    try:
        with pytest.raises(_Parsed):
            importlib.import_module(module).main(argv)
    finally:
        argparse.ArgumentParser.parse_args = original


def test_the_readme_has_code_blocks():
    assert len(blocks("python")) >= 2 and len(commands()) >= 10


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_block_runs(index, tmp_path, xla_cache, smoke_runs):
    code = blocks("python")[index]
    # A block that loads runs/smoke-readme trains it when missing; the session has one already.
    import shutil

    shutil.copytree(smoke_runs["a"], tmp_path / "runs" / "smoke-readme")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=cli_env(xla_cache),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"README python block {index} failed:\n{code}\n{proc.stderr}"


def _substitute(argv: list[str], runs: dict) -> list[str]:
    """The README's example run directories -> real ones written by train.py."""
    names = {"runs/a": runs["a"], "runs/b": runs["b"]}
    return [str(names.get(a, a)) for a in argv]


@pytest.mark.parametrize("command", commands())
def test_bash_command_is_valid(command, smoke_runs, tmp_path, xla_cache, monkeypatch):
    if command in RUN_BY_CI:
        return
    words = shlex.split(command)
    env_vars = {}
    while words and re.match(r"^[A-Z_]+=", words[0]):
        key, value = words.pop(0).split("=", 1)
        env_vars[key] = value
    # A detached run: `setsid nohup CMD > LOG 2>&1 < /dev/null &` checks as CMD.
    if words[:2] == ["setsid", "nohup"]:
        words = words[2:]
        end = next((i for i, w in enumerate(words) if w in (">", "2>&1", "<", "&")), len(words))
        assert words[end:] == [">", words[end + 1], "2>&1", "<", "/dev/null", "&"], command
        words = words[:end]
    assert words[0] == "python", f"a README command this test cannot check: {command!r}"
    if words[1] in ("train.py", "eval.py") and "--resume" in words:
        # Resuming needs a run: a copy of a real one (parsing reads its config.json).
        import shutil

        copy = tmp_path / "a"
        shutil.copytree(smoke_runs["a"], copy)
        smoke_runs = dict(smoke_runs, a=copy)
    argv = _substitute(words[2:], smoke_runs)
    if words[1] == "train.py":
        preset, config, options, saved = train_cli_module.parse_args(argv)
        if not options.resume:
            prepare(config, options)
    elif words[1] == "eval.py":
        _parse_only("agents.cli.eval", argv)
    elif words[1:3] == ["-m", "soccer_env.render"]:
        monkeypatch.chdir(tmp_path)  # runs for real: a cheap bot-vs-bot GIF
        proc = subprocess.run([sys.executable, *words[1:]], cwd=tmp_path,
                              env=cli_env(xla_cache), capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr
        out = words[words.index("--out") + 1] if "--out" in words else "match.gif"
        assert (tmp_path / out).is_file()
    elif words[1] == "-m":
        module = {"experiments.study": "experiments.study", "soccer_env.bench":
                  "soccer_env.bench.__main__", "soccer_env.bots": "soccer_env.bots.__main__",
                  "experiments.report": "experiments.report"}.get(words[2])
        assert module, f"a README command this test cannot check: {command!r}"
        _parse_only(module, argv[1:])
    else:
        raise AssertionError(f"a README command this test cannot check: {command!r}")


def test_the_sample_progress_line_is_the_printed_one(smoke_runs):
    sample = [b for b in blocks("") if b.startswith("[")]
    assert sample, "README has no sample progress line"
    printed = [line for line in smoke_runs["stdout"].splitlines()
               if line.startswith("[") and "update" in line][-1]

    def shape(line):  # the words between the numbers
        line = re.sub(r"^\[\s*", "[", line.replace(" (incl. compile)", ""))
        return re.sub(r"[-\d.,%()]+", "#", line).split()

    assert shape(sample[0].strip()) == shape(printed), (sample[0], printed)

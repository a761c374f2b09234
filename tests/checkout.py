"""A newcomer's fresh clone of the repository, and their commands, for the README's tests."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def git(*args: str, cwd: Path) -> str:
    completed = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return completed.stdout


def fresh_checkout(dest: Path) -> Path:
    """What a clone would hold if the working tree were committed now (new files included,
    ignored ones not), as a repository of its own at dest."""
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs git and make")
    try:
        names = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    except subprocess.CalledProcessError:
        pytest.skip(f"{ROOT} is not a git checkout")
    for name in filter(None, names.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git("init", "--quiet", cwd=dest)
    git("add", "--all", cwd=dest)
    identity = ["-c", "user.name=Newcomer", "-c", "user.email=newcomer@localhost"]
    git(*identity, "commit", "--quiet", "--message", "fresh clone", cwd=dest)
    return dest


def newcomer_env(checkout: Path, **extra: str) -> dict[str, str]:
    """A shell with nothing exported: no DATABASE_URL, SECRET_KEY, DEBUG or REDIS_URL.

    PYTHONPATH stands in for the editable install a newcomer's own venv would make of their
    checkout (the test's venv has one of another directory)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(checkout)),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(checkout),
    }
    env.update(extra)
    return env


def make(checkout: Path, *targets: str, **extra: str) -> str:
    completed = subprocess.run(
        ["make", f"PYTHON={sys.executable}", *targets],
        cwd=checkout,
        env=newcomer_env(checkout, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def untracked(checkout: Path, *, ignored: bool = False) -> list[str]:
    """Files git does not track: those it would show a newcomer, or also the ignored ones."""
    args = ["status", "--porcelain", "--untracked-files=all"]
    return git(*args, *(["--ignored"] if ignored else []), cwd=checkout).splitlines()


def readme_block(language: str, containing: str) -> str:
    """The README's first fenced code block in this language that contains the text."""
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", README.read_text(), re.M | re.S)
    found = [block for block in blocks if containing in block]
    assert found, f"no ```{language} block with {containing!r} in the README"
    return found[0]


def readme_commands(containing: str) -> list[str]:
    """The command lines of a README sh block (continuations joined, comments left out)."""
    text = readme_block("sh", containing).replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip()[:1] not in ("", "#")]

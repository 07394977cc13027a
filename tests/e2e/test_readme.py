"""The README's walk-through, run verbatim against a fresh `make run` server: it prints what the README
says it prints."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
README = Path(__file__).resolve().parents[2] / "README.md"


def fenced_after(marker: str) -> str:
    """The first fenced block after an HTML comment marker in the README."""
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {re.escape(marker)} -->\n```[a-z]*\n(.*?)```", text, flags=re.S)
    assert found, f"README.md has no fenced block after <!-- {marker} -->"
    return found.group(1)


def test_the_readme_walkthrough_prints_what_the_readme_shows(base_url: str) -> None:
    assert shutil.which("curl") and shutil.which("jq"), "the walk-through needs curl and jq (make test installs jq)"
    script, expected = fenced_after("walkthrough"), fenced_after("walkthrough-output")
    environment = {**os.environ, "PORT": str(urlsplit(base_url).port)}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=README.parent, capture_output=True, text=True,
                          timeout=300, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == expected.splitlines(), done.stderr[-2000:]

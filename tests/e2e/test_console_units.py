"""The console's pure functions under Node's test runner, and its canonical JSON byte for byte against the
service's: the chain the browser checks is the chain the service hashed (docs/ledger.md, "The hash")."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from loyalty.screening.domain import WEIGHTS
from loyalty.shared.canonical import canonical_json

CONSOLE = Path(__file__).resolve().parents[2] / "console"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node 20 is part of the development image")

SAMPLE = {"seq": 7, "prev_hash": "0" * 64, "amount": -21, "asset": "points", "bucket": "available",
          "kind": "refund", "level": None, "rule_version": 3, "created_at": "2026-11-30T10:00:00Z",
          "source": {"type": "batch", "id": "batch/3:49600:2"}, "parts": [["O-1", 12], ["O-2", 9]],
          "note": "李伟 \u2028 \u0007 \"quoted\" \\ tab\t 😀 é"}


def test_the_console_units_pass_under_node() -> None:
    done = subprocess.run([str(NODE), "--test", "test/"], cwd=CONSOLE, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


def test_the_browsers_canonical_json_is_the_services_byte_for_byte() -> None:
    script = f"import {{ canonical }} from './src/chain.js'; process.stdout.write(canonical({json.dumps(SAMPLE)}));"
    done = subprocess.run([str(NODE), "--input-type=module", "-e", script], cwd=CONSOLE, capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == canonical_json(SAMPLE)


def test_every_signal_screening_names_has_words_on_the_review_page() -> None:
    script = ("import { WORDS } from './src/pages/reviews.words.js'; process.stdout.write(JSON.stringify("
              "Object.fromEntries(Object.entries(WORDS).map(([l, w]) => [l, Object.keys(w).filter((k) => "
              "k.startsWith('signal.')).map((k) => k.slice(7)).sort()]))));")
    done = subprocess.run([str(NODE), "--input-type=module", "-e", script], cwd=CONSOLE, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    signals = sorted([*WEIGHTS, "cluster", "burst"])  # docs/screening.md's table: the weighted ones, then the counts
    assert json.loads(done.stdout) == {"en": signals, "zh-CN": signals}

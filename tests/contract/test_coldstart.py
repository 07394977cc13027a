"""What a cold start imports: each function's handler module, imported in a fresh interpreter as on Lambda
(tracing active), leaves off its path what the first request does not need.

Outcomes only (which modules are loaded), never times: ``make bench`` prints those (docs/benchmarks.md, §3).
Off every function's path: the AWS SDK beyond botocore's package marker (boto3 and the clients arrive with the
first client, ``wiring.client``), HTTP libraries the service never uses (``requests``, ``charset_normalizer``:
X-Ray's patch_all would import them), the use cases and stores (built by ``wiring`` on first use), and the
request/response models of features the function does not serve. With tracing on, botocore is still patched
for X-Ray before the first AWS call.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import coldstart
from localdev import template

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted({spec.module for spec in template.functions()})

OFF_THE_COLD_PATH = ("requests", "charset_normalizer", "urllib3", "boto3", "s3transfer", "botocore.client",
                     "botocore.session", "aws_xray_sdk.ext.botocore", "pynamodb",
                     "segno")  # the member card's QR code: imported when that route answers
# The features whose HTTP models a function imports besides its own (the folder named like the function):
# the models its own answers embed.
ALSO_MODELS = {"adjustments": {"ledger"}, "ledger": {"anchoring"},
               "members": {"ledger", "counter", "tiers", "segments"},  # a member read shows the segment
               "preferences": {"members", "ledger", "tiers", "segments"},
               "redemptions": {"ledger", "coupons"},  # a coupon reward
               "landing": {"partners"}, "partners": {"ledger"},  # a partner's ledger page
               "reviews": {"screening"},  # the reviews' function serves the screening feature's routes
               "wallet": {"ledger"},  # a top-up answers the member's balances
               "actions": {"ledger"},  # an action answers its ledger entry
               "simulations": {"program"}}  # a simulation's body is a programme's, and so is its answer
BUILT_ON_FIRST_USE = ("usecases", "dynamodb", "store", "planning", "sending", "content", "admin", "messaging")

LOADED = """
import json, sys
sys.path[:0] = ["layers/common", "."]
import {module}
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=coldstart.environment(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", FUNCTIONS)
def test_a_cold_start_imports_only_what_the_function_needs(module: str) -> None:
    loaded = set(loaded_by(LOADED.format(module=module)))
    function = module.split(".")[1]

    assert not {m for m in loaded for off in OFF_THE_COLD_PATH if m == off or m.startswith(off + ".")}
    features = {m.split(".")[1] for m in loaded if m.startswith("loyalty.") and m.endswith(".http")} - {"http"}
    assert {f for f in features if not f.startswith(function)} <= ALSO_MODELS.get(function, set())
    assert not {m for m in loaded if m.startswith("loyalty.") and m.rsplit(".", 1)[-1] in BUILT_ON_FIRST_USE}


TRACED = """
import json, sys
sys.path[:0] = ["layers/common", "."]
import functions.purchases.app
from aws_xray_sdk.core import patcher
before = sorted(patcher._PATCHED_MODULES), "botocore.client" in sys.modules
from loyalty.wiring import client
client("dynamodb")
from botocore.client import BaseClient
print(json.dumps([*before, sorted(patcher._PATCHED_MODULES), hasattr(BaseClient._make_api_call, "__wrapped__")]))
"""


def test_with_tracing_on_botocore_is_patched_when_the_first_client_is_built() -> None:
    patched_at_import, botocore_at_import, patched, wrapped = loaded_by(TRACED)
    assert (patched_at_import, botocore_at_import) == ([], False)
    assert patched == ["botocore"] and wrapped  # every AWS call is an X-Ray subsegment, as with patch_all

"""Settings read from the environment: the programme's time zone is checked when read, not when first used."""

from __future__ import annotations

import pytest

from loyalty.shared.settings import Settings

TABLES = {name: f"{name.lower()}-table" for name in ("MEMBERS_TABLE", "ACCOUNTS_TABLE", "LEDGER_TABLE",
                                                    "OPERATIONS_TABLE", "PROGRAM_TABLE", "CREDIT_QUEUE_TABLE")}


def test_the_programme_time_zone_defaults_to_shanghai_and_takes_any_iana_zone() -> None:
    assert Settings.from_env(TABLES).program_time_zone == "Asia/Shanghai"
    assert Settings.from_env({**TABLES, "PROGRAM_TIME_ZONE": "Europe/Berlin"}).program_time_zone == "Europe/Berlin"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "America", "../etc/passwd", "UTC+8"])
def test_a_time_zone_that_is_not_one_is_refused_by_name(zone: str) -> None:
    with pytest.raises(ValueError, match="PROGRAM_TIME_ZONE"):
        Settings.from_env({**TABLES, "PROGRAM_TIME_ZONE": zone})

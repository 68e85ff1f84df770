"""Chaos mode (issue 9 soak): ``chaos=P`` gives a request one random fault, recorded."""

from __future__ import annotations

import random
from collections import Counter

from emu_helpers import Api

from dify_emulator import FAULT_HEADER
from dify_emulator._faults import Faults, chaos_pick


def test_chaos_pick_draws_each_fault_kind_and_none_without_chaos() -> None:
    rng = random.Random(1)
    assert chaos_pick(Faults(), rng) == Faults()
    assert chaos_pick(Faults(chaos=0.0), rng) == Faults(chaos=0.0)
    kinds: Counter[str] = Counter()
    for _ in range(200):
        f = chaos_pick(Faults(chaos=1.0), rng)
        assert f.chaos is None
        if f.drop_after is not None:
            kinds["drop"] += 1
        elif f.status == 429:
            assert f.retry_after == 0.0
            kinds["429"] += 1
        elif f.status in (500, 502, 503):
            kinds["5xx"] += 1
        else:
            assert f.first_byte_delay is not None
            assert 0.05 <= f.first_byte_delay <= 0.5
            kinds["slow"] += 1
    assert set(kinds) == {"drop", "429", "5xx", "slow"}
    assert Faults.parse("chaos=0.3").chaos == 0.3


def test_rejections_are_recorded_in_the_request_log(api: Api) -> None:
    statuses = []
    for i in range(40):
        r = api.post(
            "chat",
            "/chat-messages",
            {"inputs": {}, "query": f"q{i}", "user": "u1", "response_mode": "blocking"},
            headers={FAULT_HEADER: "chaos=1"},
        )
        statuses.append(r.status_code)
    logged = [r.rejected for r in api.emu.requests if r.path == "/v1/chat-messages"]
    rejected = [s for s in statuses if s in (429, 500, 502, 503)]
    assert rejected  # 1 in 2 draws is a status fault
    assert sorted(s for s in logged if s is not None) == sorted(rejected)
    assert api.emu.requests[-1].as_dict()["rejected"] == logged[-1]

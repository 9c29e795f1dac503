"""The rule book at its edges: decreases, quotas, status, mode switches, resharding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capcon.core.model import (
    BillingMode,
    Stream,
    StreamMode,
    Table,
    Throughput,
    ThroughputHistory,
)
from capcon.core.planning.reshard import uniform_shards
from capcon.core.rules import (
    AccountCapacity,
    AccountShards,
    Code,
    RuleSettings,
    after_decrease,
    check_account_capacity,
    check_capacity_part,
    check_shard_count,
    check_stream_mode_switch,
    check_switch_to_on_demand,
    decrease_budget,
    fmt_duration,
    fmt_time,
    reshard_budget,
    shard_count_bounds,
    whole_request,
)

RULES = RuleSettings()
DAY0 = datetime(2026, 11, 23, tzinfo=UTC)


def at(hh: int, mm: int = 0, ss: int = 0, day: int = 0) -> datetime:
    return DAY0 + timedelta(days=day, hours=hh, minutes=mm, seconds=ss)


def history(used: int, last: datetime | None) -> ThroughputHistory:
    return ThroughputHistory(decreases_today=used, last_decrease=last)


def decrease(used: int, last: datetime | None, now: datetime) -> list[Code]:
    """Codes of a WCU decrease 100 → 50 with ``used`` decreases today, the last at ``last``."""
    found = check_capacity_part(
        "table t",
        "ACTIVE",
        Throughput(10, 100),
        Throughput(10, 50),
        history(used, last),
        now,
        RULES,
    )
    return [v.code for v in found]


# --- the decrease budget ------------------------------------------------------------------


def test_fourth_decrease_is_allowed_within_the_first_hour() -> None:
    assert decrease(3, at(0, 30), at(0, 35)) == []


def test_fifth_decrease_within_the_hour_is_refused_with_time_of_next() -> None:
    found = check_capacity_part(
        "table t",
        "ACTIVE",
        Throughput(10, 100),
        Throughput(10, 50),
        history(4, at(0, 40)),
        at(0, 50),
        RULES,
    )
    assert [v.code for v in found] == [Code.DECREASE_BUDGET]
    assert found[0].allowed_at == at(1, 40)
    assert "2026-11-23 01:40 UTC" in found[0].message
    assert "4 decreases used today" in found[0].message


def test_the_hour_gap_is_exact() -> None:
    assert decrease(4, at(0, 40), at(1, 39, 59)) == [Code.DECREASE_BUDGET]
    assert decrease(4, at(0, 40), at(1, 40)) == []
    assert decrease(12, at(9, 0), at(10, 0)) == []
    assert decrease(12, at(9, 0), at(9, 59)) == [Code.DECREASE_BUDGET]


def test_no_more_than_27_decreases_a_day() -> None:
    assert decrease(26, at(21, 0), at(22, 30)) == []
    assert decrease(27, at(22, 30), at(23, 59)) == [Code.DECREASE_BUDGET]
    budget = decrease_budget(history(27, at(22, 30)), at(23, 59), RULES)
    assert budget.left_today == 0
    assert budget.next_allowed_at == at(0, day=1)


def test_utc_midnight_resets_the_count() -> None:
    yesterday = history(27, at(23, 40, day=-1))
    assert decrease(27, at(23, 40, day=-1), at(0, 0)) == []
    budget = decrease_budget(yesterday, at(0, 0), RULES)
    assert budget.used_today == 0
    assert budget.left_today == 27
    assert budget.resets_at == at(0, day=1)


def test_midnight_is_utc_even_for_other_time_zones() -> None:
    plus_two = datetime(2026, 11, 23, 1, 30, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=2))
    )
    # 01:30 UTC is 03:30 at +02:00: still the same UTC day as a 00:40 UTC decrease.
    assert decrease(4, at(0, 40), plus_two) == [Code.DECREASE_BUDGET]


def test_greedy_count_over_a_whole_day_is_27() -> None:
    h = ThroughputHistory()
    t = at(0, 0)
    done = 0
    while t < at(0, day=1):
        budget = decrease_budget(h, t, RULES)
        if budget.allowed_now:
            h = after_decrease(h, t)
            done += 1
        else:
            t = budget.next_allowed_at
    assert done == 27
    assert decrease_budget(ThroughputHistory(), at(0, 0), RULES).left_today == 27


def test_budget_late_in_the_day() -> None:
    # At 23:30 with none used: the four any-time decreases, and no hour left for a fifth.
    assert decrease_budget(ThroughputHistory(), at(23, 30), RULES).left_today == 4
    # At 20:10 with 4 used at 20:00: one each at 21:00, 22:00, 23:00.
    assert decrease_budget(history(4, at(20, 0)), at(20, 10), RULES).left_today == 3


def test_decrease_rule_is_configurable() -> None:
    relaxed = RuleSettings(decreases_any_time_per_day=10)
    found = check_capacity_part(
        "table t",
        "ACTIVE",
        Throughput(10, 100),
        Throughput(10, 50),
        history(4, at(0, 40)),
        at(0, 50),
        relaxed,
    )
    assert found == []


def test_an_increase_needs_no_budget() -> None:
    found = check_capacity_part(
        "table t",
        "ACTIVE",
        Throughput(10, 100),
        Throughput(10, 500),
        history(27, at(23, 0)),
        at(23, 5),
        RULES,
    )
    assert found == []


def test_lowering_one_dimension_is_a_decrease() -> None:
    found = check_capacity_part(
        "table t",
        "ACTIVE",
        Throughput(10, 100),
        Throughput(5, 500),
        history(4, at(0, 40)),
        at(0, 50),
        RULES,
    )
    assert [v.code for v in found] == [Code.DECREASE_BUDGET]


# --- capacity limits and status -----------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "code"),
    [
        (Throughput(0, 5), Code.BELOW_MINIMUM),
        (Throughput(5, 0), Code.BELOW_MINIMUM),
        (Throughput(40_001, 5), Code.ABOVE_RESOURCE_QUOTA),
        (Throughput(5, 40_001), Code.ABOVE_RESOURCE_QUOTA),
        (Throughput(10, 100), Code.NO_CHANGE),
    ],
)
def test_capacity_limits(requested: Throughput, code: Code) -> None:
    found = check_capacity_part(
        "table t", "ACTIVE", Throughput(10, 100), requested, ThroughputHistory(), at(5), RULES
    )
    assert code in [v.code for v in found]
    message = next(v.message for v in found if v.code is code)
    assert "table t" in message


def test_exact_limits_are_allowed() -> None:
    for requested in (Throughput(1, 1), Throughput(40_000, 40_000)):
        found = check_capacity_part(
            "table t", "ACTIVE", Throughput(10, 100), requested, ThroughputHistory(), at(5), RULES
        )
        assert [v.code for v in found if v.code is not Code.DECREASE_BUDGET] == []


def test_updating_resource_is_busy() -> None:
    found = check_capacity_part(
        "table t", "UPDATING", Throughput(10, 100), Throughput(10, 200), ThroughputHistory(),
        at(5), RULES,
    )  # fmt: skip
    assert [v.code for v in found] == [Code.RESOURCE_BUSY]
    assert "ResourceInUseException" in found[0].message


def test_account_quota_counts_the_increase_only() -> None:
    account = AccountCapacity(read_units=70_000, write_units=79_000)
    assert check_account_capacity("t", Throughput(10_000, 1_000), account, RULES) == []
    over = check_account_capacity("t", Throughput(10_001, 1_001), account, RULES)
    assert [v.code for v in over] == [Code.ABOVE_ACCOUNT_QUOTA] * 2
    assert "80,000 RCU" in over[0].message
    assert check_account_capacity("t", Throughput(-5_000, -100), account, RULES) == []


def test_whole_request_names_the_innocent_parts() -> None:
    broken = [check_violation := check_capacity_part(
        "table t", "ACTIVE", Throughput(10, 100), Throughput(10, 50), history(4, at(0, 40)),
        at(0, 50), RULES,
    )[0]]  # fmt: skip
    result = whole_request(broken, ["table t", "index t/g"])
    assert result[0] is check_violation
    assert result[-1].code is Code.WHOLE_REQUEST
    assert "index t/g would not happen either" in result[-1].message
    # A single-part request has nothing else to reject.
    assert whole_request(broken, ["table t"]) == broken


# --- billing mode ---------------------------------------------------------------------------


def test_switch_to_on_demand_four_times_per_rolling_day() -> None:
    table = Table("t", provisioned=Throughput(5, 5))
    three = [at(1), at(5), at(9)]
    assert check_switch_to_on_demand(table, at(12), RULES, three) == []
    four = [*three, at(11)]
    found = check_switch_to_on_demand(table, at(12), RULES, four)
    assert [v.code for v in found] == [Code.MODE_SWITCH_LIMIT]
    assert found[0].allowed_at == at(1, day=1)
    # Once the oldest leaves the rolling window, the next switch is allowed.
    assert check_switch_to_on_demand(table, at(1, 0, 1, day=1), RULES, four) == []


def test_switch_counts_the_time_aws_reports() -> None:
    table = Table("t", provisioned=Throughput(5, 5), last_switch_to_on_demand=at(10))
    one_rule = RuleSettings(switches_to_on_demand_per_window=1)  # the rule before 2025-08
    found = check_switch_to_on_demand(table, at(12), one_rule)
    assert found and found[0].allowed_at == at(10, day=1)


def test_already_on_demand() -> None:
    table = Table("t", billing_mode=BillingMode.PAY_PER_REQUEST)
    assert [v.code for v in check_switch_to_on_demand(table, at(1), RULES)] == [Code.NO_CHANGE]


# --- Kinesis --------------------------------------------------------------------------------


def stream(open_shards: int, **kwargs: object) -> Stream:
    return Stream("s", shards=uniform_shards(open_shards), **kwargs)  # type: ignore[arg-type]


def shard_codes(s: Stream, target: int, **kwargs: object) -> list[Code]:
    return [v.code for v in check_shard_count(s, target, at(12), RULES, **kwargs)]  # type: ignore[arg-type]


def test_exactly_half_and_double_are_allowed() -> None:
    assert shard_codes(stream(4), 2) == []
    assert shard_codes(stream(4), 8) == []
    assert shard_codes(stream(4), 1) == [Code.SHARD_FACTOR]
    assert shard_codes(stream(4), 9) == [Code.SHARD_FACTOR]


def test_half_of_an_odd_count_rounds_up() -> None:
    assert shard_count_bounds(5, RULES) == (3, 10)
    assert shard_codes(stream(5), 3) == []
    assert shard_codes(stream(5), 2) == [Code.SHARD_FACTOR]


def test_shard_factor_message_says_what_is_allowed() -> None:
    found = check_shard_count(stream(4), 9, at(12), RULES)
    assert "2…8 allowed" in found[0].message


def test_eleventh_reshard_in_24_hours_is_refused() -> None:
    ten = [at(12) - timedelta(hours=h) for h in range(1, 11)]  # 02:00 … 11:00
    assert shard_codes(stream(4), 6, history=ten[:9]) == []
    found = check_shard_count(stream(4), 6, at(12), RULES, history=ten)
    assert [v.code for v in found] == [Code.RESHARD_LIMIT]
    oldest = min(ten)
    assert found[0].allowed_at == oldest + timedelta(hours=24)
    # The rolling window: a call exactly 24 h ago no longer counts.
    shifted = [*ten[:9], at(12) - timedelta(hours=24)]
    assert shard_codes(stream(4), 6, history=shifted) == []


def test_reshard_budget_counts_the_rolling_window() -> None:
    calls = [at(0), at(1), at(23, day=-1)]
    budget = reshard_budget(calls, at(12), RULES)
    assert (budget.used, budget.left, budget.next_allowed_at) == (3, 7, at(12))


def test_ten_thousand_shards_per_stream() -> None:
    big = stream(6_000)
    assert shard_codes(big, 10_000) == []
    assert Code.STREAM_SHARD_MAX in shard_codes(big, 10_001)


def test_account_shard_quota_counts_the_peak() -> None:
    # 497 open in the account, 4 of them this stream's: 8 would make 501.
    account = AccountShards(open_shards=497, shard_quota=500)
    assert shard_codes(stream(4), 8, account=account) == [Code.ACCOUNT_SHARD_QUOTA]
    assert shard_codes(stream(4), 8, account=AccountShards(open_shards=496, shard_quota=500)) == []
    # Short-lived shards count: 4 → 6 may need 7 open at once.
    assert shard_codes(
        stream(4), 6, account=AccountShards(open_shards=498, shard_quota=500), peak_open=7
    ) == [Code.ACCOUNT_SHARD_QUOTA]
    # Without a quota from DescribeLimits, a quota set in the rules applies ...
    five_hundred = RuleSettings(account_shard_quota=500)
    found = check_shard_count(
        stream(4), 8, at(12), five_hundred, account=AccountShards(open_shards=497)
    )
    assert [v.code for v in found] == [Code.ACCOUNT_SHARD_QUOTA]
    assert "account_shard_quota in your rule settings" in found[0].message


def test_on_demand_and_busy_streams_cannot_be_resharded() -> None:
    assert Code.NOT_PROVISIONED in shard_codes(stream(4, mode=StreamMode.ON_DEMAND), 6)
    assert Code.RESOURCE_BUSY in shard_codes(stream(4, status="UPDATING"), 6)
    assert shard_codes(stream(4), 4) == [Code.NO_CHANGE]


def test_fmt_time_is_absolute_and_relative() -> None:
    assert fmt_time(at(1, 40), at(0, 50)) == "2026-11-23 01:40 UTC (in 50 min)"
    assert fmt_time(at(3, 0), at(0, 50)) == "2026-11-23 03:00 UTC (in 2 h 10 min)"
    assert fmt_time(at(0, 50), at(0, 50)).endswith("(now)")


@pytest.mark.parametrize(
    ("duration", "kwargs", "text"),
    [
        # a set interval or window: exact, in the largest whole parts
        (45, {}, "45 s"),
        (60, {}, "1 min"),
        (900, {}, "15 min"),
        (3600, {}, "1 h"),
        (5400, {}, "1 h 30 min"),
        (timedelta(days=1), {}, "24 h"),
        (timedelta(hours=36), {}, "36 h"),
        (0.2, {}, "0.2 s"),
        (90.5, {}, "90.5 s"),
        (-600, {}, "−10 min"),
        (0, {}, "0 s"),
        # an age in whole minutes, as the status bar says it
        (185, {"step": 60}, "3 min"),
        (20, {"step": 60}, "0 min"),
        (timedelta(minutes=65, seconds=10), {"step": 60}, "1 h 5 min"),
        # a measured span: to the second under an hour, to the minute from an hour on
        (timedelta(minutes=4, seconds=37.4), {"approx": True}, "4 min 37 s"),
        (timedelta(hours=22, minutes=30, seconds=12), {"approx": True}, "22 h 30 min"),
        (timedelta(seconds=0.4), {"approx": True}, "0 s"),
    ],
)
def test_fmt_duration_is_the_one_way_to_say_a_duration(
    duration: timedelta | float, kwargs: dict[str, Any], text: str
) -> None:
    assert fmt_duration(duration, **kwargs) == text


def test_rule_messages_say_windows_and_gaps_with_fmt_duration() -> None:
    slow = RuleSettings(decreases_any_time_per_day=0, decrease_gap=timedelta(minutes=90))
    found = check_capacity_part(
        "table t",
        "ACTIVE",
        Throughput(10, 100),
        Throughput(10, 50),
        history(1, at(1, 0)),
        at(1, 30),
        slow,
    )
    assert any("less than 1 h 30 min ago" in v.message for v in found), found


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    used=st.integers(0, 27),
    last_minutes=st.integers(0, 24 * 60 - 1),
    later=st.integers(0, 24 * 60 * 2),
)
def test_budget_is_consistent(used: int, last_minutes: int, later: int) -> None:
    last = at(0) + timedelta(minutes=last_minutes)
    now = last + timedelta(minutes=later)
    budget = decrease_budget(history(used, last), now, RULES)
    assert 0 <= budget.left_today <= RULES.max_decreases_per_day - budget.used_today
    assert budget.allowed_now == (budget.left_today > 0 and budget.next_allowed_at == now)
    assert budget.next_allowed_at >= now
    assert budget.next_allowed_at <= budget.resets_at
    # Whatever the state, a decrease is possible again by the next UTC midnight.
    next_day = decrease_budget(history(used, last), budget.resets_at, RULES)
    assert next_day.allowed_now


@settings(max_examples=200, deadline=None)
@given(current=st.integers(1, 6_000), target=st.integers(1, 12_000))
def test_shard_bounds_match_the_checks(current: int, target: int) -> None:
    low, high = shard_count_bounds(current, RULES)
    codes = set(shard_codes(stream(current), target))
    if low <= target <= high:
        assert not codes & {Code.SHARD_FACTOR, Code.STREAM_SHARD_MAX}
    else:
        assert codes & {Code.SHARD_FACTOR, Code.STREAM_SHARD_MAX}


def test_stream_mode_switch_twice_per_day() -> None:
    s = stream(4)
    assert check_stream_mode_switch(s, StreamMode.ON_DEMAND, at(12), RULES, [at(1)]) == []
    found = check_stream_mode_switch(s, StreamMode.ON_DEMAND, at(12), RULES, [at(1), at(6)])
    assert [v.code for v in found] == [Code.MODE_SWITCH_LIMIT]
    assert found[0].allowed_at == at(1, day=1)
    same = check_stream_mode_switch(s, StreamMode.PROVISIONED, at(12), RULES)
    assert [v.code for v in same] == [Code.NO_CHANGE]

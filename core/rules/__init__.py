"""The rule book: AWS's capacity rules for DynamoDB and Kinesis as named, configurable data.

Each check returns typed :class:`Violation` values carrying a human message (what was asked,
what is allowed, and when it will be allowed) instead of raising, so the planner, the scaler,
the simulated account and the console all refuse the same requests with the same words.

Sources (docs/aws-rules.md#dynamodb-provisioned-capacity, docs/aws-rules.md#updateshardcount):
DynamoDB service quotas (minimum 1 unit; 40,000 RCU/WCU per
table or GSI, 80,000 per account; decreases per UTC day: 4 at any time, then one more after an
hour with none, 27 at most; another update while ``UPDATING`` is ``ResourceInUseException``;
provisioned → on-demand 4 times per rolling 24 h since 2025-08) and Kinesis
``UpdateShardCount`` (½…2× of open shards, 10 per rolling 24 h, 10,000 shards per stream,
within the account shard quota, provisioned streams only; stream mode twice per 24 h).
Where AWS has changed or may change a rule the number is a field of :class:`RuleSettings`,
so a user can set it from a file (``capcon.core.config.schema.apply_overrides``).

The package re-exports every module's public names, so callers import from
``capcon.core.rules``; the modules split it by service: ``dynamodb``, ``kinesis``, and what both
share (``violations``, ``settings``, ``timefmt``), and ``aws_errors``: the error AWS
answers a broken rule with.
"""

from capcon.core.rules.aws_errors import (
    error_for_violations as error_for_violations,
)
from capcon.core.rules.dynamodb import (
    TARGET_RANGE as TARGET_RANGE,
)
from capcon.core.rules.dynamodb import (
    AccountCapacity as AccountCapacity,
)
from capcon.core.rules.dynamodb import (
    DecreaseBudget as DecreaseBudget,
)
from capcon.core.rules.dynamodb import (
    after_decrease as after_decrease,
)
from capcon.core.rules.dynamodb import (
    busy_message as busy_message,
)
from capcon.core.rules.dynamodb import (
    check_account_capacity as check_account_capacity,
)
from capcon.core.rules.dynamodb import (
    check_capacity_part as check_capacity_part,
)
from capcon.core.rules.dynamodb import (
    check_on_demand_max_part as check_on_demand_max_part,
)
from capcon.core.rules.dynamodb import (
    check_switch_to_on_demand as check_switch_to_on_demand,
)
from capcon.core.rules.dynamodb import (
    check_warm_part as check_warm_part,
)
from capcon.core.rules.dynamodb import (
    decrease_budget as decrease_budget,
)
from capcon.core.rules.dynamodb import (
    fmt_on_demand_max as fmt_on_demand_max,
)
from capcon.core.rules.dynamodb import (
    index_busy_message as index_busy_message,
)
from capcon.core.rules.dynamodb import (
    near_on_demand_max as near_on_demand_max,
)
from capcon.core.rules.kinesis import (
    AccountShards as AccountShards,
)
from capcon.core.rules.kinesis import (
    ReshardBudget as ReshardBudget,
)
from capcon.core.rules.kinesis import (
    check_shard_count as check_shard_count,
)
from capcon.core.rules.kinesis import (
    check_stream_mode_switch as check_stream_mode_switch,
)
from capcon.core.rules.kinesis import (
    reshard_budget as reshard_budget,
)
from capcon.core.rules.kinesis import (
    shard_count_bounds as shard_count_bounds,
)
from capcon.core.rules.kinesis import (
    shard_quota as shard_quota,
)
from capcon.core.rules.settings import (
    RuleSettings as RuleSettings,
)
from capcon.core.rules.timefmt import (
    DAY as DAY,
)
from capcon.core.rules.timefmt import (
    HOUR as HOUR,
)
from capcon.core.rules.timefmt import (
    fmt_duration as fmt_duration,
)
from capcon.core.rules.timefmt import (
    fmt_time as fmt_time,
)
from capcon.core.rules.timefmt import (
    next_utc_midnight as next_utc_midnight,
)
from capcon.core.rules.violations import (
    Code as Code,
)
from capcon.core.rules.violations import (
    Violation as Violation,
)
from capcon.core.rules.violations import (
    part_label as part_label,
)
from capcon.core.rules.violations import (
    whole_request as whole_request,
)

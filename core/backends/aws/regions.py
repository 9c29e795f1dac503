"""Region names checked against botocore's own region list, with no network call.

A typo (``eu-wst-1``) would otherwise surface as an endpoint that does not resolve, after
retries and timeouts.  The known regions are every region of every partition (aws, aws-cn,
aws-us-gov, aws-eusc, the isolated ones) in botocore's ``partitions.json`` (the list its
endpoint rules use; 10 ms to read, against 200 ms for ``get_available_regions``), less the
``*-global`` pseudo-regions.  A name outside them is refused unless ``--endpoint-url`` is
given (moto and LocalStack take any name).  A region newer than the installed botocore is
refused too: upgrading botocore (or giving ``--endpoint-url``) is the way out.
"""

from __future__ import annotations

from functools import cache

import botocore.loaders


@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition botocore knows."""
    data = botocore.loaders.create_loader().load_data("partitions")
    found: set[str] = set()
    for partition in data.get("partitions", []):
        found.update(name for name in partition.get("regions", {}) if not name.endswith("-global"))
    return frozenset(found)


def region_problem(region: str, *, endpoint: bool) -> str | None:
    """Why ``region`` cannot be used (``None``: it can).  With an endpoint URL any
    non-empty name is taken (a local server does not care)."""
    if endpoint and region.strip():
        return None
    if region in known_regions():
        return None
    close = sorted(r for r in known_regions() if _near(r, region))[:3]
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return (
        f"region {region!r} is not an AWS region{hint}: list them with "
        "`aws ec2 describe-regions --query 'Regions[].RegionName'` (or see "
        "`aws account list-regions`); a custom name needs --endpoint-url"
    )


def _near(known: str, typed: str) -> bool:
    """One edit apart (a letter missing, extra, or wrong): likely what was meant."""
    if abs(len(known) - len(typed)) > 1:
        return False
    if len(known) == len(typed):
        return sum(a != b for a, b in zip(known, typed, strict=True)) == 1
    short, long = sorted((known, typed), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))

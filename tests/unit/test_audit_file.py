"""The audit file itself: opened without following links, kept 0600, and a log that cannot
be written refuses a change before anything reaches the backend."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from capcon.core.backends.sim.account import SimAccount
from capcon.core.backends.sim.scenarios import build_scenario
from capcon.core.config.prices import load_price_book
from capcon.core.model import Table, Throughput
from capcon.core.planning.autoscaling import AutoScalingPlan, plan_autoscaling
from capcon.core.planning.planner import PlanContext, ScalePlan, plan
from capcon.core.planning.requests import AutoScalingChange
from capcon.core.ports import TableChange
from capcon.core.rules import RuleSettings
from capcon.core.services.audit import AuditLog, AuditLogError, AuditRecord, Origin
from capcon.core.services.inspect import known_reshards
from capcon.core.services.scaler import Scaler

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORIGIN = Origin("simulated", "sim:demo")
TABLE = "audit-log"


def record(change_id: str = "c1") -> AuditRecord:
    return AuditRecord(change_id, "intent", NOW, ORIGIN, TABLE, "table", "a change")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "capcon"
    path.mkdir(parents=True)
    return path


# --- the file's mode ------------------------------------------------------------------------


def test_a_new_log_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "fresh" / "capcon" / "audit.jsonl")
    log.write(record())
    assert mode(log.path) == 0o600
    assert mode(log.path.parent) == 0o700
    assert log.take_notices() == []


def test_an_existing_0644_log_becomes_0600_with_a_notice(folder: Path) -> None:
    path = folder / "audit.jsonl"
    path.write_text(record("old").to_json() + "\n")
    path.chmod(0o644)
    log = AuditLog(path)
    log.write(record("new"))
    assert mode(path) == 0o600
    notices = log.take_notices()
    assert len(notices) == 1
    assert str(path) in notices[0] and "0644" in notices[0] and "0600" in notices[0]
    assert [r["change_id"] for r in log.read()] == ["old", "new"]
    log.write(record("again"))  # said once: the mode is right now
    assert log.take_notices() == []


def test_the_record_format_is_unchanged(folder: Path) -> None:
    log = AuditLog(folder / "audit.jsonl")
    log.write(record())
    line = (folder / "audit.jsonl").read_text(encoding="utf-8")
    assert line == record().to_json() + "\n"
    assert set(json.loads(line)) == {
        "change_id", "phase", "at", "origin", "resource", "kind", "summary",
        "before", "after", "outcome", "error", "details",
    }  # fmt: skip


# --- links and other things at the path -----------------------------------------------------


def test_a_symlink_is_refused_and_its_target_untouched(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("precious\n")
    os.utime(target, (1_000_000, 1_000_000))
    target.chmod(0o644)
    link = folder / "audit.jsonl"
    link.symlink_to(target)
    log = AuditLog(link)
    with pytest.raises(AuditLogError) as caught:
        log.write(record())
    assert str(link) in str(caught.value) and "symbolic link" in str(caught.value)
    with pytest.raises(AuditLogError):
        log.check_writable()
    with pytest.raises(AuditLogError, match="symbolic link"):
        log.read()  # reading does not follow it either
    assert target.read_text() == "precious\n"
    assert target.stat().st_mtime == 1_000_000
    assert mode(target) == 0o644
    assert log.take_notices() == []


def test_a_dangling_symlink_is_not_created_through(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "would-be-created.jsonl"
    (folder / "audit.jsonl").symlink_to(target)
    with pytest.raises(AuditLogError, match="symbolic link"):
        AuditLog(folder / "audit.jsonl").write(record())
    assert not target.exists()


def test_a_directory_at_the_path_is_a_clear_error(folder: Path) -> None:
    (folder / "audit.jsonl").mkdir()
    log = AuditLog(folder / "audit.jsonl")
    with pytest.raises(AuditLogError, match="directory"):
        log.write(record())
    with pytest.raises(AuditLogError):
        log.read()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_folder_is_a_clear_error(folder: Path) -> None:
    folder.chmod(0o500)
    try:
        with pytest.raises(AuditLogError, match="permission denied"):
            AuditLog(folder / "audit.jsonl").check_writable()
    finally:
        folder.chmod(0o700)


def test_a_missing_log_reads_as_empty(tmp_path: Path) -> None:
    assert AuditLog(tmp_path / "nothing" / "audit.jsonl").read() == []


def test_reshard_history_from_an_unreadable_log_is_empty(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "t.jsonl"
    target.write_text("")
    (folder / "audit.jsonl").symlink_to(target)
    assert known_reshards(AuditLog(folder / "audit.jsonl"), "clicks", NOW) == ()


# --- the scaler refuses before sending ------------------------------------------------------


class Recording:
    """Counts the mutating calls that reach the simulated account."""

    def __init__(self, acc: SimAccount, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for name in (
            "update_table",
            "update_shard_count",
            "split_shard",
            "merge_shards",
            "register_scalable_target",
            "put_scaling_policy",
            "delete_scaling_policy",
            "deregister_scalable_target",
        ):
            original = getattr(acc, name)

            def spy(*args: object, _name: str = name, _original: object = original) -> object:
                self.calls.append(_name)
                assert callable(_original)
                return _original(*args)

            monkeypatch.setattr(acc, name, spy)


def table_plan(acc: SimAccount) -> tuple[Table, ScalePlan]:
    table = acc.describe_table(TABLE)
    wcu = table.provisioned.write if table.provisioned else 100
    rcu = table.provisioned.read if table.provisioned else 100
    result = plan(
        table,
        TableChange(table=Throughput(rcu, wcu * 2)),
        acc.now(),
        rules=RuleSettings(),
        prices=load_price_book("us-east-1"),
        context=PlanContext(),
    )
    assert isinstance(result, ScalePlan), result
    return table, result


def broken_log(kind: str, folder: Path, tmp_path: Path) -> AuditLog:
    path = folder / "audit.jsonl"
    if kind == "directory":
        path.mkdir()
    elif kind == "symlink":
        target = tmp_path / "target.jsonl"
        target.write_text("")
        path.symlink_to(target)
    else:
        raise AssertionError(kind)
    return AuditLog(path)


@pytest.mark.parametrize("kind", ["directory", "symlink"])
def test_an_unwritable_log_refuses_before_sending(
    kind: str, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = build_scenario("demo", NOW)
    before, the_plan = table_plan(acc)
    sent = Recording(acc, monkeypatch)
    log = broken_log(kind, folder, tmp_path)
    scaler = Scaler(acc, log, ORIGIN, wait=lambda s: acc.advance(int(s)), poll_seconds=5)
    result = scaler.apply(the_plan, previous=before)
    assert result.outcome == "refused"
    assert result.error is not None
    assert str(log.path) in result.error
    assert ("directory" if kind == "directory" else "symbolic link") in result.error
    assert "nothing was sent" in result.error
    assert result.change_id == ""
    assert sent.calls == []
    acc.advance(600)
    assert acc.describe_table(TABLE).provisioned == before.provisioned
    if kind == "symlink":
        assert (tmp_path / "target.jsonl").read_text() == ""


def test_a_failing_intent_record_is_a_refusal(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log opened for the check but the intent record fails: still nothing is sent."""
    acc = build_scenario("demo", NOW)
    before, the_plan = table_plan(acc)
    sent = Recording(acc, monkeypatch)
    log = AuditLog(folder / "audit.jsonl")

    def fail(_record: AuditRecord) -> None:
        raise AuditLogError(log.path, "the disk is full")

    monkeypatch.setattr(log, "write", fail)
    scaler = Scaler(acc, log, ORIGIN, wait=lambda s: acc.advance(int(s)), poll_seconds=5)
    result = scaler.apply(the_plan, previous=before)
    assert result.outcome == "refused"
    assert result.error is not None and "the disk is full" in result.error
    assert sent.calls == []
    assert acc.describe_table(TABLE).provisioned == before.provisioned


def test_autoscaling_with_an_unwritable_log_is_refused_before_sending(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = build_scenario("demo", NOW)
    sent = Recording(acc, monkeypatch)
    log = broken_log("symlink", folder, tmp_path)
    scaler = Scaler(acc, log, ORIGIN, wait=lambda s: acc.advance(int(s)), poll_seconds=5)
    the_plan = plan_autoscaling(
        acc.describe_table(TABLE),
        AutoScalingChange(TABLE, None, "write", 10, 1_000, 60),
        (),
        (),
        acc.now(),
        rules=RuleSettings(),
        prices=load_price_book("us-east-1"),
    )
    assert isinstance(the_plan, AutoScalingPlan), the_plan
    result = scaler.apply_autoscaling(the_plan)
    assert result.outcome == "refused"
    assert result.error is not None and str(log.path) in result.error
    assert sent.calls == []

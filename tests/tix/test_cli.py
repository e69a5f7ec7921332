"""The real ``tix`` CLI as a subprocess: lifecycle, JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.tix.cli_helpers import tix


@pytest.fixture
def repo(git_repo: Path) -> Path:
    assert tix(git_repo, "init").code == 0
    return git_repo


def test_init_is_idempotent_and_sets_up_git_files(git_repo: Path) -> None:
    first = tix(git_repo, "init")
    assert first.code == 0 and "created .tix/" in first.out
    assert tix(git_repo, "init").out.startswith("tix already initialised")
    assert ".tix/cache.db*" in (git_repo / ".gitignore").read_text()
    assert (git_repo / ".tix" / ".gitattributes").read_text() == "plan.jsonl merge=union\n"


def test_task_lifecycle_and_shapes(repo: Path) -> None:
    added = tix(repo, "task", "add", '{"name":"parse","accept":"tests pass","priority":"high"}').json
    assert set(added) == {"id", "name"} and added["name"] == "parse"
    task_id = added["id"]
    done = tix(repo, "task", "done", task_id).json
    assert done["id"] == task_id and done["status"] == "done" and len(done["done_at"]) >= 7
    assert tix(repo, "task", "reject", task_id, "no tests").json == {
        "id": task_id,
        "status": "rejected",
        "retries": 1,
    }
    assert tix(repo, "task", "done").json["id"] == task_id
    assert tix(repo, "task", "accept").json == {"id": task_id, "status": "accepted"}
    full = tix(repo, "query", "full").json
    assert set(full) == {"tasks", "issues", "notes", "tombstones", "meta"}
    assert [t["id"] for t in full["tasks"]["accepted"]] == [task_id]
    assert [s["reason"] for s in full["tombstones"]["rejected"]] == ["no tests"]
    assert set(full["tombstones"]["accepted"][0]) == {
        "id",
        "name",
        "done_at",
        "reason",
        "commit",
        "timestamp",
    }
    assert full["meta"]["branch"] == "main"


def test_batch_add_fail_update_prioritize_delete(repo: Path) -> None:
    added = tix(
        repo, "task", "add", '[{"name":"a","ref":"a"},{"name":"b","deps":["@a"],"labels":["x"]}]'
    ).json
    first, second = (item["id"] for item in added)
    failed = tix(repo, "task", "fail", first, "timed out", "--kill-reason", "timeout").json
    assert failed == {"id": first, "status": "failed", "kill_count": 1, "kill_reason": "timeout"}
    assert (
        tix(repo, "task", "update", second, '{"meta":{"cost":1.5},"labels_add":["y"]}').json["status"]
        == "updated"
    )
    assert tix(repo, "task", "prioritize", second, "high").json == {"id": second, "priority": "high"}
    tasks = tix(repo, "query", "tasks", "--label", "y").json
    assert [(t["id"], t["priority"], t["labels"], t["meta"]) for t in tasks] == [
        (second, "high", ["x", "y"], {"cost": 1.5})
    ]
    refused = tix(repo, "task", "delete", first)
    assert refused.code == 1 and refused.err == f"error: cannot delete {first}: {second} depend on it\n"
    assert tix(repo, "task", "delete", second).json == {"id": second, "status": "deleted"}
    assert tix(repo, "task", "delete", first).json["status"] == "deleted"


def test_issues_and_notes(repo: Path) -> None:
    one = tix(repo, "issue", "add", '{"desc":"flaky","spec":"s.md"}').json
    two = tix(repo, "issue", "add", '{"desc":"slow"}').json
    assert set(one) == {"id", "desc"} and one["desc"] == "flaky"
    assert tix(repo, "issue", "done-ids", one["id"], "i-00000000").json == {"resolved": 1}
    assert tix(repo, "issue", "done-all").json == {"resolved": 1}
    assert tix(repo, "query", "issues").json == [] and two["id"].startswith("i-")
    note = tix(repo, "note", "add", "remember ünïcode").json
    listed = tix(repo, "note", "list").json
    assert [(n["t"], n["id"], n["name"], n["s"]) for n in listed] == [
        ("note", note["id"], "remember ünïcode", "p")
    ]
    assert tix(repo, "note", "done", note["id"]).json == {"id": note["id"], "status": "archived"}


def test_tql_sql_flag_and_raw_sql(repo: Path) -> None:
    tix(repo, "task", "add", '{"name":"a","meta":{"cost":2}}')
    assert tix(repo, "q", "tasks | select name,meta.cost").json == [{"name": "a", "meta.cost": 2}]
    assert tix(repo, "q", "--sql", "tasks | meta.cost>1").out.startswith("SELECT ")
    assert tix(repo, "q", "sql", "SELECT count(*) AS n FROM tickets").json == [{"n": 1}]
    assert tix(repo, "query", "tasks | count").json == [{"count": 1}]


def test_text_views_and_reports(repo: Path) -> None:
    tix(repo, "task", "add", '{"name":"a","accept":"ok","meta":{"cost":1,"model":"m"}}')
    assert "Tasks: 1 total, 1 pending, 0 done, 0 accepted (0%)" in tix(repo, "report").out
    assert "Branch: main" in tix(repo, "status").out
    for kind in ("velocity", "actors", "models", "labels"):
        result = tix(repo, "report", kind)
        assert result.code == 0 and isinstance(result.json, list), kind
    assert tix(repo, "report", "models").json[0]["meta.model"] == "m"
    assert tix(repo, "validate").out == "Validation PASSED\nNo issues found.\n"
    assert "a" in tix(repo, "tree").out
    assert tix(repo, "search", "a").json["query"] == "a"


def test_batch_file_and_json(repo: Path, tmp_path: Path) -> None:
    assert tix(repo, "batch", '[{"name":"a"},{"name":"b","deps":[0]}]').json["success"] == 2
    ops = tmp_path / "ops.jsonl"
    ops.write_text('{"op":"add","name":"c"}\n{"op":"add","name":"d","deps":["#0"]}\n')
    result = tix(repo, "batch", str(ops)).json
    assert result["success"] == 2 and len(result["ids"]) == 2


def test_log_sync_compact(repo: Path) -> None:
    tix(repo, "task", "add", '{"name":"a"}')
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "plan"], cwd=repo, check=True)
    log = tix(repo, "log").json
    assert [entry["message"] for entry in log] == ["plan"] and len(log[0]["hash"]) == 40
    assert tix(repo, "sync").json["commits"] == 1
    assert tix(repo, "compact").json["compacted"] is True
    assert tix(repo, "compact").json["changed"] is False


BAD_INPUT = [
    (("task", "add", "{bad"), 1, "error: malformed JSON"),
    (("task", "add", '{"priority":"high"}'), 1, "error: task needs a non-empty name"),
    (("task", "done", "t-00000000"), 1, "error: unknown id: t-00000000"),
    (("task", "reject", "t-00000000", "why"), 1, "error: unknown id"),
    (("q", "frobs"), 1, "error: unknown source"),
    (("task", "prioritize", "t-00000000", "urgent"), 2, "error: invalid priority"),
    (("task", "reject"), 2, "Missing argument"),
    (("task", "explode"), 2, "No such command"),
    (("report", "nonsense"), 2, "Invalid value"),
]


def test_bad_input_leaves_plan_untouched(repo: Path) -> None:
    tix(repo, "task", "add", '{"name":"keep"}')
    plan = repo / ".tix" / "plan.jsonl"
    before = plan.read_bytes()
    for args, code, message in BAD_INPUT:
        result = tix(repo, *args)
        assert (result.code, result.out) == (code, ""), args
        assert message in result.err and result.err.count("\n") <= 4, args
        assert plan.read_bytes() == before, args


def test_illegal_transition_is_one_line(repo: Path) -> None:
    task_id = tix(repo, "task", "add", '{"name":"a"}').json["id"]
    result = tix(repo, "task", "accept", task_id)
    assert result.code == 1
    assert result.err == f"error: cannot accept {task_id}: status is pending, not done\n"


def test_missing_tix_and_not_a_repo(git_repo: Path, tmp_path: Path) -> None:
    missing = tix(git_repo, "query", "full")
    assert missing.code == 1 and missing.err.startswith("error: no .tix directory in")
    outside = tmp_path / "plain"
    outside.mkdir()
    result = tix(outside, "status")
    assert result.code == 1 and result.err.startswith("error: not a git repository")
    assert tix(git_repo, "--help").code == 0

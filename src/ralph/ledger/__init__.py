"""The ledger: runs.jsonl, iterations.jsonl and calls.jsonl in the log dir (DESIGN §5).

records.py  RunRecord, IterationRecord, CallRecord ("schema": 1) and their JSON form
upgrade.py  ordered, named upgrade steps from the earlier ralph's lines to the current schema
writer.py   LedgerWriter: flock + one os.write per whole line; torn-tail repair
reader.py   read_runs (final record per run), read_/iter_ iterations and calls (streaming, filtered)
summary.py  run listing for `ralph log` and the grouped comparison for `ralph compare`
"""

from ralph.ledger.reader import (
    iter_calls,
    iter_iterations,
    iter_runs,
    read_calls,
    read_iterations,
    read_runs,
)
from ralph.ledger.records import (
    SCHEMA_VERSION,
    ApiCalls,
    CallRecord,
    IterationRecord,
    Outcome,
    Reconcile,
    RunPhase,
    RunRecord,
    StageTotals,
    TaskTotals,
    Tokens,
    iso_time,
    new_run_id,
)
from ralph.ledger.upgrade import LedgerFile
from ralph.ledger.writer import LedgerWriter, repair_tail

__all__ = [
    "SCHEMA_VERSION",
    "ApiCalls",
    "CallRecord",
    "IterationRecord",
    "LedgerFile",
    "LedgerWriter",
    "Outcome",
    "Reconcile",
    "RunPhase",
    "RunRecord",
    "StageTotals",
    "TaskTotals",
    "Tokens",
    "iso_time",
    "iter_calls",
    "iter_iterations",
    "iter_runs",
    "new_run_id",
    "read_calls",
    "read_iterations",
    "read_runs",
    "repair_tail",
]

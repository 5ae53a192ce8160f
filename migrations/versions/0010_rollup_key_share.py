"""dashboard rollup triggers hold the stall FOR KEY SHARE; a move takes it FOR UPDATE

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 08:50:00

"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _rollups_0008():
    """Migration 0008's module, whose SQL pieces these functions are rebuilt from."""
    path = Path(__file__).with_name("0008_dashboard_rollups.py")
    spec = importlib.util.spec_from_file_location("rollups_0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _functions(lock: str, move_lock: str) -> str:
    m = _rollups_0008()
    return f"""
CREATE OR REPLACE FUNCTION rollup_report_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    {m._report_row("OLD", "-", m._pg_day("OLD"), lock)}
  END IF;
  {m._report_row("NEW", "", m._pg_day("NEW"), lock)}
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION rollup_stall_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {move_lock}
  {m._stall_history("OLD", "-", m._pg_day("r"))}
  {m._stall_history("NEW", "", m._pg_day("r"))}
  RETURN NULL;
END $$;
"""


# As in 0009: FOR SHARE made a report's rule checks queue behind any audited stall edit that
# held the audit lock, and that edit then waited for the audit lock the checks held: a
# deadlock. FOR KEY SHARE lets ordinary stall edits through; a move to another kelurahan or
# category takes the stall FOR UPDATE first, so it still waits for report writers (or is
# waited for, and its new kelurahan read).
def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            _functions(" FOR KEY SHARE", "PERFORM 1 FROM stalls WHERE id = NEW.id FOR UPDATE;")
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_functions(" FOR SHARE", ""))

"""Dashboard upkeep: fold the pending rollup deltas into the rollups."""

from celery import shared_task

from promkm_qr.dashboard import rollups


@shared_task(name="promkm_qr.dashboard.fold_rollups", ignore_result=False)
def fold_rollups() -> int:
    """Move pending deltas into the rollups (beat, every minute); returns the rows folded.

    The dashboard is exact without it (it adds the pending deltas itself); folding keeps the
    pending deltas few, so reading them stays cheap.
    """
    return rollups.fold()

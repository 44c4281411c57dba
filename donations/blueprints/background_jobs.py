"""Admin page "Background jobs": run counts, recent runs, retries, consumer and backup health."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from donations.authz import roles_required
from donations.forms import EmptyForm
from donations.models import JobStatus, Role, utcnow
from donations.services import background_jobs, backup
from donations.unit_of_work import unit_of_work

bp = Blueprint("background_jobs", __name__, url_prefix="/admin/jobs")

RUNS_PER_PAGE = 50


@bp.get("")
@roles_required(Role.ADMIN)
def index():
    """Counts per status, the newest runs (older ones page by id), consumer and backup age."""
    before = request.args.get("before", type=int)
    runs = background_jobs.list_runs(limit=RUNS_PER_PAGE, before_id=before)
    folder = backup.backup_folder()
    return render_template(
        "background_jobs/index.html",
        counts=background_jobs.status_counts(),
        runs=runs,
        more=len(runs) == RUNS_PER_PAGE,
        before=before,
        consumer=background_jobs.last_consumer(),
        consumer_silent=background_jobs.consumer_is_silent(),
        silent_minutes=background_jobs.SILENT_MINUTES,
        last_backup=backup.last_backup(folder),
        backup_overdue=backup.backup_is_overdue(folder),
        overdue_days=backup.OVERDUE_DAYS,
        now=utcnow(),
        failed=JobStatus.FAILED,
        form=EmptyForm(),
    )


@bp.post("/<int:run_id>/retry")
@roles_required(Role.ADMIN)
def retry(run_id: int):
    """Queue a failed run again."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work(flash_errors=True) as work:
        run = background_jobs.retry_run(run_id)
    if work.ok:
        flash(f"{run.task_name.rsplit('.', 1)[-1]} is queued again.", "success")
    return redirect(url_for("background_jobs.index"))

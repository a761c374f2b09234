import pytest

from feedback.tasks import invitation_send_batch
from portal.celery import app


def test_it_only_speaks_json() -> None:
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_always_eager is False


def test_it_runs_the_sweep_every_minute() -> None:
    entry = app.conf.beat_schedule["invitations-sweep"]
    assert (entry["task"], entry["schedule"]) == ("feedback.tasks.invitations_sweep", 60.0)


def test_it_refuses_to_queue_days_ahead_work() -> None:
    with pytest.raises(ValueError, match="store a due_at row"):
        invitation_send_batch.apply_async(args=[[1]], countdown=3 * 24 * 3600)

"""A background job's own process (python -m app.jobrunner): what it loads and how it is called."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _python(code, **env):
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_a_jobs_process_loads_neither_the_api_nor_the_console_nor_migrations_nor_wechat():
    """The job process's memory is what the 150 MB goal of issue 13 is measured on: none of the web
    application's parts is imported by the app it makes or by the services its jobs run."""
    out = _python(
        "import sys, json\n"
        "from app import job_app\n"
        "from config import TestingConfig\n"
        "app = job_app(TestingConfig)\n"
        "from app.services import background\n"
        "for kind in background.KINDS: background.target(kind)\n"
        "heavy = ('app.api', 'app.console', 'app.cli', 'flask_migrate', 'alembic', 'wechatpy', 'flask_wtf')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy)))\n")
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_runner_refuses_what_is_not_a_job():
    for args in (["bogus", "1"], ["export"], ["export", "x1"], ["console", "1", "2"]):
        out = subprocess.run([sys.executable, "-m", "app.jobrunner", *args], cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 2 and "usage: python -m app.jobrunner {export|console} <job id>" in out.stderr, args


def test_a_job_that_is_not_queued_is_left_alone(app, db):
    """A job another runner has claimed (running), and an id no job has: the process claims nothing,
    writes nothing and exits 0."""
    from app.models import ExportChunk, ExportJob
    from app.models.places import utcnow
    from tests import factories

    comp = factories.compound(buildings=(("1栋", 1, 1, 1),))
    c = factories.consultation(("compound", comp))
    job = ExportJob(consultation_id=c.id, format="pdf", status="running", progress=40, heartbeat_at=utcnow())
    db.session.add(job)
    db.session.commit()
    settings = json.dumps({"config": "testing", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    for job_id in (job.id, 987654):
        out = subprocess.run([sys.executable, "-m", "app.jobrunner", "export", str(job_id)], cwd=ROOT,
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "GONGJIAN_JOB_SETTINGS": settings})
        assert out.returncode == 0, out.stderr[-2000:]
    db.session.expire_all()
    assert (job.status, job.progress) == ("running", 40)
    assert db.session.scalar(db.select(db.func.count(ExportJob.id))) == 1
    assert db.session.scalar(db.select(db.func.count(ExportChunk.job_id))) == 0

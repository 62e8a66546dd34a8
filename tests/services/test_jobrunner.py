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
    """An id no job has (or one another runner claimed): the process claims nothing and exits 0."""
    from app.models import ExportJob

    settings = json.dumps({"config": "testing", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    out = subprocess.run([sys.executable, "-m", "app.jobrunner", "export", "987654"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "GONGJIAN_JOB_SETTINGS": settings})
    assert out.returncode == 0, out.stderr[-2000:]
    assert db.session.scalar(db.select(db.func.count(ExportJob.id))) == 0

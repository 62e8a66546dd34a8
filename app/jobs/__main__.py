"""python -m app.jobs: the scheduler process."""
from app import create_app
from app.jobs import run

run(create_app())

"""One background job in a process of its own: python -m app.jobrunner <kind> <job id>.

Started by app/services/background.py (JOB_RUNNER=process, the default) from the process that took
the request. The settings are the config named in GONGJIAN_JOB_SETTINGS (with the database URL and
the WeChat API address of the application that started it); the rest comes from the environment,
as for the web workers. The job itself claims its row, beats, and records how it ended: this
process only runs it and exits (status 0 whether the job was done or failed; 1 if it could not run).
"""
import json
import os
import sys


def main(argv):
    from app.services.background import ENV_SETTINGS, KINDS

    if len(argv) != 3 or argv[1] not in KINDS or not argv[2].isdigit():
        sys.stderr.write(f"usage: python -m app.jobrunner {{{'|'.join(KINDS)}}} <job id>\n")
        return 2
    kind, job_id = argv[1], int(argv[2])
    settings = json.loads(os.environ.get(ENV_SETTINGS) or "{}")

    from app import job_app
    from config import get_config

    base = get_config(settings.pop("config", None))
    config = type("JobConfig", (base,), settings)  # the application's own database and WeChat address
    app = job_app(config)
    from app.extensions import db
    from app.services.background import target

    with app.app_context():
        try:
            target(kind)(job_id)
        finally:
            db.session.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

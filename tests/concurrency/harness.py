"""A real threaded HTTP server of the app on loopback, and real client threads that hit it at once."""
import contextlib
import threading
import time

import requests
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class _Server(ThreadedWSGIServer):
    request_queue_size = 1024  # every client thread connects at once: no SYN dropped and retried


@contextlib.contextmanager
def serve(app):
    """The app behind werkzeug's threaded server (one thread per connection) on a free port."""
    server = _Server("127.0.0.1", 0, app, handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def call(method, url, **kwargs):
    """(status, JSON body or text) of one request on its own connection; status None if it never answered."""
    try:
        resp = requests.request(method, url, timeout=90, **kwargs)
    except requests.RequestException as exc:
        return None, repr(exc)
    try:
        return resp.status_code, resp.json()
    except ValueError:
        return resp.status_code, resp.text[:300]


def at_once(jobs):
    """Run every job (a no-argument callable) in its own thread, released together; results in order."""
    results = [None] * len(jobs)
    gate = threading.Barrier(len(jobs))

    def run(i, job):
        gate.wait()
        results[i] = job()

    threads = [threading.Thread(target=run, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "client threads still waiting after 120 s"
    return results


def login_all(base, names):
    """Sign in every dev-<name> through the WeChat emulator, concurrently; {name: Authorization header}."""
    answers = at_once([lambda n=n: call("POST", f"{base}/api/v1/auth/login", json={"code": f"dev-{n}.{time.time_ns()}"})
                       for n in names])
    bad = [(n, a) for n, a in zip(names, answers) if a[0] != 200]
    assert not bad, f"{len(bad)} sign-ins failed, first: {bad[:1]}"
    return {n: {"Authorization": "Bearer " + a[1]["data"]["token"]} for n, a in zip(names, answers)}

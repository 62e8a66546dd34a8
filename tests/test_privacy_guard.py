"""Is the guard that looks for leaked secrets really watching (tests/conftest.py no_secrets_leak)?"""
import logging


def test_guard_sees_answers_and_log_lines(app, client, login):
    """Do answers, the app's log lines and libraries' debug lines all reach the guard's capture?"""
    login("probe")
    app.logger.info("probe-app-line")
    logging.getLogger("urllib3.connectionpool").debug("probe-library-line")
    texts = app.extensions["test_captured"].texts
    assert any("probe-app-line" in t for t in texts)
    assert any("probe-library-line" in t for t in texts)
    assert any('"token"' in t for t in texts)  # the login answer itself

"""Does the emulator answer like WeChat at its edges, and run on its own?"""
import subprocess
import sys
import time

import requests

from app.wechat.emulator import find_server, start_in_thread


def test_unknown_path_and_wrong_method(emulator):
    """Is an unknown path 40066 and a GET on a POST endpoint 43002, both as HTTP 200 JSON like WeChat?"""
    resp = requests.get(emulator + "/cgi-bin/nothing", timeout=5)
    assert resp.status_code == 200 and resp.json()["errcode"] == 40066
    assert requests.get(emulator + "/wxa/msg_sec_check", timeout=5).json()["errcode"] == 43002
    assert requests.post(emulator + "/cgi-bin/token", timeout=5).json()["errcode"] == 43001


def test_bad_json_is_47001(emulator):
    """Is a body that is not JSON refused with 47001?"""
    resp = requests.post(emulator + "/cgi-bin/stable_token", data=b"{not json", timeout=5)
    assert resp.json()["errcode"] == 47001


def test_control_endpoints(emulator, emu):
    """Do config, advance and stats work over HTTP for people driving the emulator with curl?"""
    answer = requests.post(emulator + "/__emulator__/config", json={"login_limit_per_minute": 7}, timeout=5).json()
    assert answer["login_limit_per_minute"] == 7 == emu.login_limit_per_minute
    before = emu.state.now()
    requests.post(emulator + "/__emulator__/advance", json={"seconds": 3600}, timeout=5)
    assert emu.state.now() - before >= 3600
    stats = requests.get(emulator + "/__emulator__/stats", timeout=5).json()
    assert stats == {"token": 0, "stable_token": 0, "stable_token_issued": 0, "live_tokens": 0}


def test_second_emulator_is_independent_and_stops():
    """Does start_in_thread give a separate emulator on another free port that shutdown() stops?"""
    server, base = start_in_thread("wxother", "other-secret")
    assert find_server(base) is server
    ok = requests.post(base + "/cgi-bin/stable_token", json={"grant_type": "client_credential", "appid": "wxother",
                                                           "secret": "other-secret"}, timeout=5).json()
    assert ok["expires_in"] == 7200
    server.shutdown()
    try:
        requests.get(base + "/__emulator__/sent", timeout=1)
        raise AssertionError("still answering after shutdown")
    except requests.ConnectionError:
        pass


def test_runs_alone_from_the_command_line():
    """Does `python -m app.wechat.emulator --port N` print where it listens and answer there?"""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "app.wechat.emulator", "--port", str(port), "--quiet"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line
        for _ in range(50):
            try:
                assert requests.get(f"http://127.0.0.1:{port}/__emulator__/sent", timeout=1).json() == []
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError("the emulator did not answer")
    finally:
        proc.terminate()
        proc.wait(timeout=5)

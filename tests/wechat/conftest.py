"""Fixtures for the WeChat tests: the session's emulator as an object, fresh for each test."""
import pytest
import requests

from app.wechat.client import get_wechat
from app.wechat.emulator import find_server


@pytest.fixture(autouse=True)
def emu(emulator):
    """The emulator server behind the `emulator` base URL, reset before and after the test."""
    server = find_server(emulator)
    server.state.reset()
    yield server
    server.state.reset()


@pytest.fixture()
def wechat(app, db):
    """The client as the product builds it: token in the database table."""
    return get_wechat()


@pytest.fixture()
def raw(emulator):
    """Plain HTTP to the emulator, for what the client does not do itself."""

    class Raw:
        def get(self, path, **params):
            return requests.get(emulator + path, params=params, timeout=5).json()

        def post(self, path, body=None, **params):
            return requests.post(emulator + path, params=params, json=body or {}, timeout=5)

    return Raw()

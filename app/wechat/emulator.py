"""The project's own WeChat API emulator: WeChat's paths, JSON shapes and error codes on 127.0.0.1.

Development and tests point WECHAT_API_BASE here so that the real wechatpy code path runs end to end.
Run it alone with `python -m app.wechat.emulator --port 8090`.

What it plays (see shared/WECHAT.md beside the repository for the facts behind each rule):

- Access tokens: `GET /cgi-bin/token` issues a new token each call; the previous plain token keeps
  working for TOKEN_OVERLAP seconds, then answers 40001 (WeChat: "new and old both work for 5
  minutes"). `POST /cgi-bin/stable_token` is isolated from it: the same token while valid, a new one
  in its last 5 minutes, and `force_refresh` cancels the previous stable token at once. expires_in is
  the remaining lifetime (7200 for a fresh token). Missing token 41001, unknown or cancelled 40001,
  expired 42001.
- Login: `GET /sns/jscode2session` with code `dev-<name>` (or `dev-<name>.<anything>`, a fresh code
  for the same person) answers openid = dev_openid(appid, name). Codes are
  single-use (40029); `dev-risky-<x>` is a blocked high-risk user (40226); more than
  `state.login_limit_per_minute` logins of one name a minute give 45011 (the code is not used up).
- Phone: `POST /wxa/business/getuserphonenumber` with code `phone-<11 digits>` (or `phone-<11 digits>.<anything>`).
- Subscribe messages: `POST /cgi-bin/message/subscribe/send` spends one quota per (openid, template);
  quota comes from `POST /__emulator__/subscribe` (the user tapping "accept"). Data is checked before
  the quota is spent, so a 47003 keeps it.
- `POST /wxa/getwxacodeunlimit`: a real PNG QR code of width x width; width outside 280-1280 is
  clamped (as WeChat does), bad scene 40169, bad env_version 40097, page with '/' or '?' 41030.
- `POST /wxa/msg_sec_check`: version 2 answers pass / review / risky from RISKY_WORDS and
  REVIEW_WORDS; content over 2500 characters is 45002 (WeChat's "content size out of limit");
  without version 2 it answers like version 1 (87014 for risky content).

Control endpoints, for tests and people (no token needed):
  POST /__emulator__/subscribe {openid, template_id, count?}   add quota, answers {quota}
  GET  /__emulator__/sent | /codes | /checks | /logins          what was sent / generated / checked
  GET  /__emulator__/stats                                     token fetch counters and live tokens
  POST /__emulator__/config {login_limit_per_minute?, token_overlap?}
  POST /__emulator__/advance {seconds}                         move the emulator's clock forward
  POST /__emulator__/reset                                     back to a fresh start
  POST /__emulator__/fail {errcode | status, times?, path?}   the next `times` (default 1) calls of `path`
       (default the subscribe send) answer WeChat's errcode (e.g. -1 system busy, 45009 limit) or,
       with `status`, that HTTP status (502, 503, ...) without JSON; nothing is spent or recorded
  POST /__emulator__/delay {seconds, path?}                    each call of `path` waits this long before it
       is handled (0 ends it): a slow WeChat, to stop a client in the middle of a batch
  GET  /__emulator__/attempts                                  every subscribe send asked for, with its errcode
"""
import argparse
import io
import json
import re
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from app.wechat.dev import dev_openid

TOKEN_TTL = 7200
# Plain cgi-bin/token: the previous token keeps working this long after a new one is issued.
TOKEN_OVERLAP = 300
# stable_token renews a token in its last five minutes.
STABLE_RENEW_WINDOW = 300
LOGIN_LIMIT_PER_MINUTE = 100
CONTENT_LIMIT = 2500

# msgSecCheck stand-ins: a word -> the label WeChat would give (20002 porn, 20003 abuse,
# 20006 illegal, 20008 fraud; 10001 advertising, 21000 other).
RISKY_WORDS = {
    "网络赌博": 20006,
    "代开发票": 20006,
    "刷单返利": 20008,
    "中奖汇款": 20008,
    "王八蛋": 20003,
    "色情服务": 20002,
}
REVIEW_WORDS = {
    "加微信": 10001,
    "扫码领取": 10001,
    "私下交易": 21000,
}

SUBSCRIBE_SEND = "/cgi-bin/message/subscribe/send"
# What WeChat says with an errcode a test injects (POST /__emulator__/fail).
FAULT_MESSAGES = {-1: "system error", 45009: "reach max api daily quota limit", 45011: "api minute-quota reach limit"}

SCENE_RE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+$")
ENV_VERSIONS = ("release", "trial", "develop")
MINIPROGRAM_STATES = ("developer", "trial", "formal")
# `dev-<name>` or `dev-<name>.<anything>`: the suffix makes a fresh code for the same person.
LOGIN_CODE_RE = re.compile(r"^dev-([^.]+)(?:\..*)?$")
PHONE_CODE_RE = re.compile(r"^phone-(\d{11})(?:\..*)?$")

# Subscribe message data, by key prefix: (max length, allowed characters or None for any).
_DATE = r"\d{4}(?:年\d{1,2}月\d{1,2}日|-\d{1,2}-\d{1,2}|/\d{1,2}/\d{1,2})"
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?"
_DATE_VALUE = rf"{_DATE}(?:\s*{_TIME})?"
_TIME_VALUE = rf"(?:{_DATE}\s*)?{_TIME}"
FIELD_RULES = {
    "thing": (20, None),
    "number": (32, re.compile(r"^\d+(?:\.\d+)?$")),
    "letter": (32, re.compile(r"^[A-Za-z]+$")),
    "symbol": (5, re.compile(r"^[^\w\s]+$")),
    "character_string": (32, re.compile(r"^[\x21-\x7e]+$")),
    "phrase": (5, re.compile(r"^[\u4e00-\u9fff]+$")),
    "name": (None, None),  # 10 characters, or 20 when pure ASCII letters and symbols
    "phone_number": (17, re.compile(r"^[0-9+\-() ]+$")),
    "car_number": (8, None),
    "amount": (None, re.compile(r"^[¥￥$€£]?\d{1,10}(?:\.\d{1,2})?元?$")),
    "time": (None, re.compile(rf"^{_TIME_VALUE}(?:\s*~\s*{_TIME_VALUE})?$")),
    "date": (None, re.compile(rf"^{_DATE_VALUE}(?:\s*~\s*{_DATE_VALUE})?$")),
}
FIELD_KEY_RE = re.compile(r"^(" + "|".join(sorted(FIELD_RULES, key=len, reverse=True)) + r")(\d+)$")


class ApiError(Exception):
    """An answer with errcode != 0."""

    def __init__(self, errcode, errmsg):
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


def _rid():
    return uuid.uuid4().hex[:8] + "-" + uuid.uuid4().hex[:8]


def _field_error(key, value):
    """The 47003 message for one data field, or None when the value fits its type."""
    match = FIELD_KEY_RE.match(key)
    if not match:
        return f"argument invalid! data.{key} unknown keyword type"
    if not isinstance(value, dict) or not isinstance(value.get("value"), str):
        return f"argument invalid! data.{key}.value invalid"
    text = value["value"]
    if text == "":
        return f"argument invalid! data.{key}.value is empty"
    kind = match.group(1)
    limit, pattern = FIELD_RULES[kind]
    if kind == "name":
        limit = 20 if text.isascii() else 10
    if limit is not None and len(text) > limit:
        return f"argument invalid! data.{key}.value exceeds limit {limit}"
    if pattern is not None and not pattern.match(text):
        return f"argument invalid! data.{key}.value invalid"
    return None


class EmulatorState:
    """Everything the emulator remembers, behind one lock. Lists are copied on read."""

    def __init__(self, appid, secret):
        self.appid = appid
        self.secret = secret
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        """Back to a fresh start, configuration included."""
        with self.lock:
            self.login_limit_per_minute = LOGIN_LIMIT_PER_MINUTE
            self.token_overlap = TOKEN_OVERLAP
            self.clock_offset = 0.0
            self.tokens = {}  # token -> {"kind", "expires_at", "revoked_at"}
            self.plain_token = None
            self.stable_token = None
            self.token_fetches = {"token": 0, "stable_token": 0, "stable_token_issued": 0}
            self.used_codes = set()
            self.login_times = defaultdict(deque)
            self.quota = defaultdict(int)
            self._sent, self._codes, self._checks, self._logins = [], [], [], []
            self._attempts = []  # every subscribe send asked for, whatever it answered
            self.faults = []  # [{"path", "errcode" | "status", "times"}], first match is used
            self.delays = {}  # path -> seconds to wait before handling a call

    # --- injected faults and delays --------------------------------------------------------------
    def add_fault(self, path=SUBSCRIBE_SEND, errcode=None, status=None, times=1):
        """The next `times` calls of `path` fail: WeChat's `errcode`, or HTTP `status` without JSON."""
        if (errcode is None) == (status is None):
            raise ApiError(47001, "give errcode or status")
        with self.lock:
            self.faults.append({"path": path, "errcode": None if errcode is None else int(errcode),
                                "status": None if status is None else int(status), "times": int(times)})
            return [dict(f) for f in self.faults]

    def take_fault(self, path):
        """The fault this call of `path` answers, or None; each use counts down its `times`."""
        with self.lock:
            for fault in self.faults:
                if fault["path"] == path and fault["times"] > 0:
                    fault["times"] -= 1
                    if path == SUBSCRIBE_SEND:
                        self._attempts.append({"errcode": fault["errcode"], "status": fault["status"],
                                               "touser": None, "template_id": None, "at": self.now()})
                    return dict(fault)
            return None

    def set_delay(self, path=SUBSCRIBE_SEND, seconds=0):
        with self.lock:
            if float(seconds) > 0:
                self.delays[path] = float(seconds)
            else:
                self.delays.pop(path, None)
            return dict(self.delays)

    def delay_for(self, path):
        with self.lock:
            return self.delays.get(path, 0.0)

    # --- clock ---------------------------------------------------------------------------------
    def now(self):
        return time.time() + self.clock_offset

    def advance(self, seconds):
        """Move the emulator's clock forward: tokens expire, rate-limit windows pass."""
        with self.lock:
            self.clock_offset += float(seconds)

    # --- read-only views -----------------------------------------------------------------------
    @property
    def sent(self):
        with self.lock:
            return [dict(m) for m in self._sent]

    @property
    def codes(self):
        with self.lock:
            return [dict(c) for c in self._codes]

    @property
    def checks(self):
        with self.lock:
            return [dict(c) for c in self._checks]

    @property
    def logins(self):
        with self.lock:
            return [dict(c) for c in self._logins]

    @property
    def attempts(self):
        """Every subscribe send asked for: {touser, template_id, errcode, status, at} (errcode 0: sent)."""
        with self.lock:
            return [dict(a) for a in self._attempts]

    def stats(self):
        with self.lock:
            now = self.now()
            live = sum(1 for t in self.tokens.values() if self._token_error(t, now) is None)
            return {**self.token_fetches, "live_tokens": live}

    def accept_subscribe(self, openid, template_id, count=1):
        """The user tapped "accept" for this template: one more message may be sent."""
        with self.lock:
            self.quota[(openid, template_id)] += int(count)
            return self.quota[(openid, template_id)]

    def quota_of(self, openid, template_id):
        with self.lock:
            return self.quota[(openid, template_id)]

    # --- tokens --------------------------------------------------------------------------------
    def _check_credentials(self, appid, secret):
        if not appid or appid != self.appid:
            raise ApiError(40013, "invalid appid")
        if not secret:
            raise ApiError(41004, "appsecret missing")
        if secret != self.secret:
            raise ApiError(40125, "invalid appsecret")

    def _issue(self, kind, now):
        token = secrets.token_urlsafe(96)
        self.tokens[token] = {"kind": kind, "expires_at": now + TOKEN_TTL, "revoked_at": None}
        return token

    @staticmethod
    def _token_error(entry, now):
        if entry["revoked_at"] is not None and entry["revoked_at"] <= now:
            return ApiError(40001, "invalid credential, access_token is invalid or not latest")
        if entry["expires_at"] <= now:
            return ApiError(42001, "access_token expired")
        return None

    def plain_token_request(self, query):
        with self.lock:
            self.token_fetches["token"] += 1
            if query.get("grant_type") != "client_credential":
                raise ApiError(40002, "invalid grant_type")
            self._check_credentials(query.get("appid"), query.get("secret"))
            now = self.now()
            if self.plain_token in self.tokens:
                old = self.tokens[self.plain_token]
                old["revoked_at"] = min(old["expires_at"], now + self.token_overlap)
            self.plain_token = self._issue("plain", now)
            return {"access_token": self.plain_token, "expires_in": TOKEN_TTL}

    def stable_token_request(self, body):
        with self.lock:
            self.token_fetches["stable_token"] += 1
            if body.get("grant_type") != "client_credential":
                raise ApiError(40002, "invalid grant_type")
            self._check_credentials(body.get("appid"), body.get("secret"))
            now = self.now()
            current = self.tokens.get(self.stable_token)
            force = body.get("force_refresh") in (True, "true", 1)
            if force and current is not None:
                current["revoked_at"] = now
            if force or current is None or current["expires_at"] - now <= STABLE_RENEW_WINDOW:
                self.stable_token = self._issue("stable", now)
                self.token_fetches["stable_token_issued"] += 1
            remaining = int(self.tokens[self.stable_token]["expires_at"] - now)
            return {"access_token": self.stable_token, "expires_in": remaining}

    def check_token(self, query):
        token = query.get("access_token")
        if not token:
            raise ApiError(41001, "access_token missing")
        with self.lock:
            entry = self.tokens.get(token)
            if entry is None:
                raise ApiError(40001, "invalid credential, access_token is invalid or not latest")
            error = self._token_error(entry, self.now())
            if error:
                raise error

    # --- login and phone -----------------------------------------------------------------------
    def login(self, query):
        self._check_credentials(query.get("appid"), query.get("secret"))
        if query.get("grant_type") != "authorization_code":
            raise ApiError(40002, "invalid grant_type")
        code = query.get("js_code") or ""
        match = LOGIN_CODE_RE.match(code)
        with self.lock:
            if not match or code in self.used_codes:
                raise ApiError(40029, "invalid code")
            name = match.group(1)
            if name.startswith("risky-"):
                self.used_codes.add(code)
                raise ApiError(40226, "code blocked")
            now = self.now()
            times = self.login_times[name]
            while times and times[0] <= now - 60:
                times.popleft()
            if len(times) >= self.login_limit_per_minute:
                raise ApiError(45011, "api minute-quota reach limit  mustslower  retry next minute")
            times.append(now)
            self.used_codes.add(code)
            openid = dev_openid(self.appid, name)
            self._logins.append({"name": name, "openid": openid, "at": now})
            return {"openid": openid, "session_key": secrets.token_urlsafe(18)}

    def phone(self, body):
        code = body.get("code") or ""
        match = PHONE_CODE_RE.match(code) if isinstance(code, str) else None
        with self.lock:
            if not match or code in self.used_codes:
                raise ApiError(40029, "invalid code")
            self.used_codes.add(code)
            number = match.group(1)
            return {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": number,
                    "purePhoneNumber": number,
                    "countryCode": "86",
                    "watermark": {"timestamp": int(self.now()), "appid": self.appid},
                },
            }

    # --- subscribe messages --------------------------------------------------------------------
    def send_subscribe(self, body):
        """One send: checked, then one quota spent and the message recorded; every call is an attempt."""
        try:
            result = self._send_subscribe(body)
        except ApiError as error:
            self._attempt(body, error.errcode)
            raise
        self._attempt(body, 0)
        return result

    def _attempt(self, body, errcode):
        with self.lock:
            self._attempts.append({"touser": body.get("touser"), "template_id": body.get("template_id"),
                                   "errcode": errcode, "status": 200, "at": self.now()})

    def _send_subscribe(self, body):
        touser, template_id = body.get("touser"), body.get("template_id")
        if not isinstance(touser, str) or not touser:
            raise ApiError(40003, "invalid openid")
        if not isinstance(template_id, str) or not template_id:
            raise ApiError(40037, "invalid template_id")
        page = body.get("page")
        if page is not None and (not isinstance(page, str) or page.startswith("/")):
            raise ApiError(41030, "invalid page")
        state = body.get("miniprogram_state")
        if state is not None and state not in MINIPROGRAM_STATES:
            raise ApiError(47003, "argument invalid! miniprogram_state invalid")
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            raise ApiError(47003, "argument invalid! data is empty")
        for key, value in data.items():
            message = _field_error(key, value)
            if message:
                raise ApiError(47003, message)
        with self.lock:
            if self.quota[(touser, template_id)] <= 0:
                raise ApiError(43101, "user refuse to accept the msg")
            self.quota[(touser, template_id)] -= 1
            msgid = len(self._sent) + 1
            self._sent.append({
                "msgid": msgid,
                "touser": touser,
                "template_id": template_id,
                "page": page,
                "data": {k: v["value"] for k, v in data.items()},
                "miniprogram_state": state or "formal",
                "lang": body.get("lang") or "zh_CN",
                "at": self.now(),
            })
            return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    # --- mini-program codes --------------------------------------------------------------------
    def wxacode(self, body):
        scene = body.get("scene")
        if not isinstance(scene, str) or not 1 <= len(scene) <= 32:
            raise ApiError(40169, "invalid length for scene, or the data is not json string")
        if not SCENE_RE.match(scene):
            raise ApiError(40169, "invalid scene")
        page = body.get("page") or ""
        if not isinstance(page, str) or page.startswith("/") or "?" in page:
            raise ApiError(41030, "invalid page")
        env_version = body.get("env_version") or "release"
        if env_version not in ENV_VERSIONS:
            raise ApiError(40097, "invalid args: env_version")
        try:
            width = int(body.get("width") or 430)
        except (TypeError, ValueError):
            raise ApiError(40097, "invalid args: width") from None
        width = max(280, min(1280, width))
        text = f"wxacode:{self.appid}:{page}?scene={scene}&env_version={env_version}"
        png = _qr_png(text, width)
        with self.lock:
            self._codes.append({
                "scene": scene, "page": page, "env_version": env_version, "width": width,
                "check_path": body.get("check_path", True), "text": text, "at": self.now(),
            })
        return png

    # --- content security ----------------------------------------------------------------------
    def msg_sec_check(self, body):
        content = body.get("content")
        if not isinstance(content, str) or not content:
            raise ApiError(47001, "data format error: content")
        if len(content) > CONTENT_LIMIT:
            raise ApiError(45002, "content size out of limit")
        risky = next(((w, label) for w, label in RISKY_WORDS.items() if w in content), None)
        review = next(((w, label) for w, label in REVIEW_WORDS.items() if w in content), None)
        if body.get("version") not in (2, "2"):
            if risky:
                raise ApiError(87014, "risky content")
            return {"errcode": 0, "errmsg": "ok"}
        openid = body.get("openid")
        if not isinstance(openid, str) or not openid:
            raise ApiError(40003, "invalid openid")
        if body.get("scene") not in (1, 2, 3, 4):
            raise ApiError(40129, "invalid scene")
        hit, suggest = (risky, "risky") if risky else (review, "review") if review else (None, "pass")
        label = hit[1] if hit else 100
        detail = [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label,
                   "prob": 90 if hit else 0}]
        if hit:
            detail.append({"strategy": "keyword", "errcode": 0, "suggest": suggest, "label": label,
                           "level": 20, "keyword": hit[0]})
        trace_id = uuid.uuid4().hex
        with self.lock:
            self._checks.append({"openid": openid, "content": content, "scene": body.get("scene"),
                                 "suggest": suggest, "label": label, "trace_id": trace_id,
                                 "at": self.now()})
        return {"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": label},
                "detail": detail, "trace_id": trace_id}


def _qr_png(text, width):
    """A QR code of `text`, width x width pixels, as PNG bytes."""
    import qrcode
    from PIL import Image

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white").get_image().convert("L")
    image = image.resize((width, width), Image.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class _Handler(BaseHTTPRequestHandler):
    server_version = "WeChatEmulator/1.0"

    # (method, path) -> (needs access token, handler name); the other method gets 43001/43002.
    ROUTES = {
        ("GET", "/cgi-bin/token"): (False, "_token"),
        ("POST", "/cgi-bin/stable_token"): (False, "_stable_token"),
        ("GET", "/sns/jscode2session"): (False, "_jscode2session"),
        ("POST", "/wxa/business/getuserphonenumber"): (True, "_phone"),
        ("POST", "/cgi-bin/message/subscribe/send"): (True, "_subscribe_send"),
        ("POST", "/wxa/getwxacodeunlimit"): (True, "_wxacode"),
        ("POST", "/wxa/msg_sec_check"): (True, "_msg_sec_check"),
        ("POST", "/__emulator__/subscribe"): (False, "_ctl_subscribe"),
        ("GET", "/__emulator__/sent"): (False, "_ctl_sent"),
        ("GET", "/__emulator__/codes"): (False, "_ctl_codes"),
        ("GET", "/__emulator__/checks"): (False, "_ctl_checks"),
        ("GET", "/__emulator__/logins"): (False, "_ctl_logins"),
        ("GET", "/__emulator__/stats"): (False, "_ctl_stats"),
        ("POST", "/__emulator__/config"): (False, "_ctl_config"),
        ("POST", "/__emulator__/advance"): (False, "_ctl_advance"),
        ("POST", "/__emulator__/reset"): (False, "_ctl_reset"),
        ("POST", "/__emulator__/fail"): (False, "_ctl_fail"),
        ("POST", "/__emulator__/delay"): (False, "_ctl_delay"),
        ("GET", "/__emulator__/attempts"): (False, "_ctl_attempts"),
    }

    @property
    def state(self):
        return self.server.state

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        route = self.ROUTES.get((method, parts.path))
        try:
            if route is None:
                other = "POST" if method == "GET" else "GET"
                if (other, parts.path) in self.ROUTES:
                    raise ApiError(43002 if other == "POST" else 43001, f"require {other} method")
                raise ApiError(40066, "invalid url")
            needs_token, name = route
            body = self._body() if method == "POST" else {}
            if not parts.path.startswith("/__emulator__/"):
                delay = self.state.delay_for(parts.path)
                if delay:
                    time.sleep(delay)
                fault = self.state.take_fault(parts.path)
                if fault and fault["status"] is not None:
                    message = f"<html><body>{fault['status']} injected by the emulator</body></html>"
                    self._send(message.encode(), "text/html", fault["status"])
                    return
                if fault:
                    raise ApiError(fault["errcode"], FAULT_MESSAGES.get(fault["errcode"], "injected error"))
            if needs_token:
                self.state.check_token(query)
            result = getattr(self, name)(query, body)
        except ApiError as error:
            result = {"errcode": error.errcode, "errmsg": f"{error.errmsg} rid: {_rid()}"}
        if isinstance(result, bytes):
            self._send(result, "image/png")
        else:
            self._send(json.dumps(result, ensure_ascii=False).encode(), "application/json; encoding=utf-8")

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(47001, "data format error") from None
        if not isinstance(body, dict):
            raise ApiError(47001, "data format error")
        return body

    def _send(self, payload, content_type, status=200):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        # The query string carries secrets and tokens: log the path only, and only when asked.
        if getattr(self.server, "verbose", False):
            print(f"{self.command} {urlsplit(self.path).path}", flush=True)

    # --- WeChat endpoints ----------------------------------------------------------------------
    def _token(self, query, body):
        return self.state.plain_token_request(query)

    def _stable_token(self, query, body):
        return self.state.stable_token_request(body)

    def _jscode2session(self, query, body):
        return self.state.login(query)

    def _phone(self, query, body):
        return self.state.phone(body)

    def _subscribe_send(self, query, body):
        return self.state.send_subscribe(body)

    def _wxacode(self, query, body):
        return self.state.wxacode(body)

    def _msg_sec_check(self, query, body):
        return self.state.msg_sec_check(body)

    # --- control endpoints ---------------------------------------------------------------------
    def _ctl_subscribe(self, query, body):
        openid, template_id = body.get("openid"), body.get("template_id")
        if not openid or not template_id:
            raise ApiError(47001, "openid and template_id are required")
        count = body.get("count", 1)
        return {"errcode": 0, "errmsg": "ok", "quota": self.state.accept_subscribe(openid, template_id, count)}

    def _ctl_sent(self, query, body):
        return self.state.sent

    def _ctl_codes(self, query, body):
        return self.state.codes

    def _ctl_checks(self, query, body):
        return self.state.checks

    def _ctl_logins(self, query, body):
        return self.state.logins

    def _ctl_stats(self, query, body):
        return self.state.stats()

    def _ctl_config(self, query, body):
        with self.state.lock:
            if "login_limit_per_minute" in body:
                self.state.login_limit_per_minute = int(body["login_limit_per_minute"])
            if "token_overlap" in body:
                self.state.token_overlap = float(body["token_overlap"])
            return {"errcode": 0, "errmsg": "ok", "login_limit_per_minute": self.state.login_limit_per_minute,
                    "token_overlap": self.state.token_overlap}

    def _ctl_advance(self, query, body):
        self.state.advance(float(body.get("seconds", 0)))
        return {"errcode": 0, "errmsg": "ok"}

    def _ctl_reset(self, query, body):
        self.state.reset()
        return {"errcode": 0, "errmsg": "ok"}

    def _ctl_fail(self, query, body):
        try:
            faults = self.state.add_fault(body.get("path") or SUBSCRIBE_SEND, body.get("errcode"),
                                          body.get("status"), body.get("times", 1))
        except (TypeError, ValueError):
            raise ApiError(47001, "errcode, status and times are integers") from None
        return {"errcode": 0, "errmsg": "ok", "faults": faults}

    def _ctl_delay(self, query, body):
        try:
            delays = self.state.set_delay(body.get("path") or SUBSCRIBE_SEND, float(body.get("seconds", 0)))
        except (TypeError, ValueError):
            raise ApiError(47001, "seconds is a number") from None
        return {"errcode": 0, "errmsg": "ok", "delays": delays}

    def _ctl_attempts(self, query, body):
        return self.state.attempts


class EmulatorServer(ThreadingHTTPServer):
    """The HTTP server; `server.state` is the EmulatorState tests read and adjust."""

    daemon_threads = True

    def __init__(self, appid, secret, host="127.0.0.1", port=0, verbose=False):
        super().__init__((host, port), _Handler)
        self.state = EmulatorState(appid, secret)
        self.verbose = verbose
        self.base_url = f"http://{host}:{self.server_address[1]}"

    @property
    def login_limit_per_minute(self):
        return self.state.login_limit_per_minute

    @login_limit_per_minute.setter
    def login_limit_per_minute(self, value):
        with self.state.lock:
            self.state.login_limit_per_minute = int(value)

    def handle_error(self, request, client_address):
        """A client that stopped waiting (its timeout, a killed process) is not an error of ours."""
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)

    def shutdown(self):
        """Stop serving and close the socket."""
        super().shutdown()
        self.server_close()
        _RUNNING.pop(self.base_url, None)


# base_url -> server, so tests that only hold the base URL can reach the state.
_RUNNING = {}


def start_in_thread(appid, secret, host="127.0.0.1", port=0):
    """Start an emulator in a daemon thread on a free port; returns (server, base_url)."""
    server = EmulatorServer(appid, secret, host, port)
    thread = threading.Thread(target=server.serve_forever, name="wechat-emulator", daemon=True)
    thread.start()
    _RUNNING[server.base_url] = server
    return server, server.base_url


def find_server(base_url):
    """The emulator started in this process at base_url (KeyError if none)."""
    return _RUNNING[base_url.rstrip("/")]


def main(argv=None):
    from config import Config

    parser = argparse.ArgumentParser(description="共建 · WeChat API emulator (微信接口模拟器)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--appid", default=Config.WECHAT_APPID)
    parser.add_argument("--secret", default=Config.WECHAT_SECRET)
    parser.add_argument("--quiet", action="store_true", help="do not print each request")
    args = parser.parse_args(argv)
    server = EmulatorServer(args.appid, args.secret, args.host, args.port, verbose=not args.quiet)
    print(f"WeChat emulator for {args.appid} listening on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

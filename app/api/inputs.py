"""Input that no request can turn into a 500 (issue 8): the field classes every schema uses, the
JSON body parser, and ids in URL paths.

- A body that is not JSON (malformed, nested too deep, NaN, a number of thousands of digits) is a 400
  `invalid_json`; one over MAX_CONTENT_LENGTH a 413 (Werkzeug); everything else is validated by the
  schemas before a handler runs, a 422.
- Integers are strict and in range: in a body only a JSON integer (not 1.5, "1", true), in a query
  string only digits, and ids fit MariaDB's INT (1 .. 2^31-1) instead of overflowing it.
- Text holds no control characters (free text may hold line breaks and tabs) and no lone
  surrogates, which no UTF-8 column can store.
- Times are years 2000-2100; a time without a zone is Beijing time (Asia/Shanghai).
"""
import json
import re
from zoneinfo import ZoneInfo

from apiflask import fields as _fields
from apiflask.schema_adapters.marshmallow import parser as _parser
from marshmallow import validate as _validate
from webargs import core as _webargs_core
from webargs.flaskparser import is_json_request
from werkzeug.exceptions import UnprocessableEntity
from werkzeug.routing import BaseConverter

import app.api.common  # noqa: F401  (Chinese messages are set before any validator is made)
from app.errors import ApiError

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # MariaDB INT
ID_MAX = INT_MAX
SHANGHAI = ZoneInfo("Asia/Shanghai")
YEARS = (2000, 2100)

# Control characters (C0, DEL, C1), the bidirectional overrides and isolates (they make a name or a
# room read differently from what it is), and surrogates, which only a lone "\ud800" escape can bring.
_SURROGATE = re.compile("[\ud800-\udfff]")
_FORBIDDEN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_FORBIDDEN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_DIGITS = re.compile(r"-?[0-9]{1,40}")


class String(_fields.String):
    """Text without control characters or lone surrogates; `multiline=True` (free text such as a
    consultation's body) allows line breaks and tabs."""

    default_error_messages = {
        "control": "不能包含控制字符",
        "control_line": "不能包含换行、制表符等控制字符",
        "surrogate": "包含无效的 Unicode 字符",
    }

    def __init__(self, *, multiline=False, **kwargs):
        self.multiline = multiline
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        bad = (_FORBIDDEN_TEXT if self.multiline else _FORBIDDEN_LINE).search(value)
        if bad:
            if _SURROGATE.match(bad.group()):
                raise self.make_error("surrogate")
            raise self.make_error("control" if self.multiline or bad.group() not in "\n\r\t" else "control_line")
        return value


class Integer(_fields.Integer):
    """A whole number between minimum and maximum (MariaDB INT by default). In a JSON body only a
    JSON integer counts (not 1.5, "1" or true); with `in_query=True` (query strings are text) only
    digits with an optional minus sign."""

    def __init__(self, *, minimum=INT_MIN, maximum=INT_MAX, in_query=False, validate=None, **kwargs):
        self.in_query = in_query
        validators = [_validate.Range(minimum, maximum, error=f"应为 {minimum} 到 {maximum} 之间的整数")]
        if validate is not None:
            validators += list(validate) if isinstance(validate, (list, tuple)) else [validate]
        super().__init__(strict=not in_query, validate=validators, **kwargs)

    def _validated(self, value):
        if self.in_query:
            if not isinstance(value, str) or not _DIGITS.fullmatch(value):
                raise self.make_error("invalid", input=value)
            value = int(value)
        return super()._validated(value)


class Id(Integer):
    """The id of a row: 1 .. 2^31-1."""

    def __init__(self, **kwargs):
        super().__init__(minimum=1, maximum=ID_MAX, **kwargs)


class DateTime(_fields.AwareDateTime):
    """An ISO 8601 time in the years 2000-2100; without a zone it is Beijing time (UTC+8), which is
    what a staff member typing "2030-01-01T12:00:00" means."""

    default_error_messages = {"range": f"时间应在 {YEARS[0]} 年到 {YEARS[1]} 年之间"}

    def __init__(self, **kwargs):
        super().__init__(format="iso", default_timezone=SHANGHAI, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 64:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        value = super()._deserialize(value, attr, data, **kwargs)
        if not YEARS[0] <= value.year <= YEARS[1]:
            raise self.make_error("range")
        return value


class Date(_fields.Date):
    """A calendar day (ISO 8601, "2026-11-28") in the years 2000-2100."""

    default_error_messages = {"range": f"日期应在 {YEARS[0]} 年到 {YEARS[1]} 年之间"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 10:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        value = super()._deserialize(value, attr, data, **kwargs)
        if not YEARS[0] <= value.year <= YEARS[1]:
            raise self.make_error("range")
        return value


# ---------------------------------------------------------------- the JSON body

class _NotJSON(ValueError):
    pass


def _reject_constant(name):
    raise _NotJSON(name)  # NaN, Infinity, -Infinity: Python reads them, JSON has none


def parse_json_body(data):
    """The body as JSON, or a 400 in the one error shape. Python's own parser raises more than
    webargs catches: RecursionError on deep nesting ([[[[... 100,000 times), ValueError for an
    integer of more than 4,300 digits."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ApiError(400, "invalid_json", "请求内容嵌套层数过多", {"json": ["嵌套层数过多"]}) from None
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
        raise ApiError(400, "invalid_json", "请求内容不是有效的 JSON", {"json": ["不是有效的 JSON"]}) from None


def _raw_load_json(req):
    """webargs' FlaskParser._raw_load_json with parse_json_body: an empty body is 'missing' (the
    schema then names the required fields, a 422), as webargs does."""
    if not is_json_request(req):
        return _webargs_core.missing
    data = req.get_data(cache=True)  # over MAX_CONTENT_LENGTH: Werkzeug's 413
    if not data.strip():
        return _webargs_core.missing
    return parse_json_body(data)


# APIFlask validates every @input(..., location="json") through this one webargs parser.
_parser._raw_load_json = _raw_load_json


# ---------------------------------------------------------------- ids in URL paths

class InvalidPathId(UnprocessableEntity):
    """An id in a URL path that is not a whole number of 1 .. 2^31-1 (app.api.errors makes it a 422)."""

    message = f"路径中的编号应为 1 到 {ID_MAX} 之间的整数"


class IdConverter(BaseConverter):
    """Replaces Werkzeug's `int` converter application-wide: `<int:flat_id>` matches any path
    segment, and anything but an id in range (1.5, true, -1, 0, 2^63) is a 422 rather than a 404
    or, past 2^31-1, an INT overflow in MariaDB."""

    regex = r"[^/]+"
    weight = 50  # as Werkzeug's number converters: tried before <string:...> rules
    part_isolating = True

    def to_python(self, value):
        if re.fullmatch(r"[0-9]{1,10}", value) and 1 <= int(value) <= ID_MAX:
            return int(value)
        raise InvalidPathId()

    def to_url(self, value):
        return str(int(value))


# Registered first (app.api.BLUEPRINTS): the converter is in place before any route is added.
from apiflask import APIBlueprint  # noqa: E402

bp = APIBlueprint("inputs", __name__, enable_openapi=False)


@bp.record_once
def _install(state):
    state.app.url_map.converters["int"] = IdConverter

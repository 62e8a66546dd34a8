"""Request and response schemas shared by the API blueprints.

Every field is one of app.api.inputs' strict kinds: String (no control characters or lone
surrogates; multiline for free text), Id (a JSON integer of 1 .. 2^31-1; in_query=True for query
strings), DateTime (years 2000-2100, Beijing time when no zone is given). Unknown fields are refused.
"""
from apiflask import Schema
from apiflask.fields import Boolean, List, Nested
from apiflask.validators import Length, OneOf, Regexp

from app.api.inputs import DateTime, Id, String

from app.models.bindings import RELATIONS
from app.models.consultations import KINDS


class CodeIn(Schema):
    code = String(required=True, validate=Length(1, 128))


class BindingIn(Schema):
    flat_id = Id(required=True)
    relation = String(required=True, validate=OneOf(list(RELATIONS), error="应为 owner、family 或 tenant"))
    name = String(required=True, validate=Length(1, 32, error="请填写 1 到 32 个字的姓名"))
    phone_last4 = String(load_default=None, validate=Regexp(r"^\d{4}$", error="应为手机号后 4 位数字"))


class ReasonIn(Schema):
    reason = String(load_default=None, validate=Length(0, 200, error="原因不超过 200 字"))


class BindingQuery(Schema):
    status = String(load_default="pending", validate=OneOf(["pending", "approved", "rejected", "unbound"]))


class ScopeIn(Schema):
    type = String(required=True, validate=OneOf(["compound", "building", "unit"], error="应为 compound、building 或 unit"))
    id = Id(required=True)


class OptionIn(Schema):
    key = String(required=True, validate=Regexp(r"^[a-z_]{1,32}$", error="应为小写英文字母"))
    label = String(required=True, validate=Length(1, 20))


class ThresholdIn(Schema):
    what = String(required=True, validate=OneOf(["participate", "agree"]))
    measure = String(required=True, validate=OneOf(["persons", "area", "flats"]))
    base = String(required=True, validate=OneOf(["all", "participants"]))
    share = String(required=True, validate=Regexp(r"^\d{1,6}/[1-9]\d{0,5}$", error="应为分数，例如 2/3"))
    strict = Boolean(load_default=False)


class RuleIn(Schema):
    preset = String(load_default="major", validate=OneOf(["major", "ordinary", "none"],
                    error="应为 major（第 278 条第 6-8 项）、ordinary（其他事项）或 none"))
    thresholds = List(Nested(ThresholdIn), load_default=[], validate=Length(0, 20))
    required_consent_flat_ids = List(Id(), load_default=[], validate=Length(0, 1000))
    objection_veto = Boolean(load_default=False)
    objection_notice_id = Id(load_default=None, metadata={"description": "其异议计为明确反对的公示（须同时启用 objection_veto）"})


class ConsultationIn(Schema):
    scope = Nested(ScopeIn, required=True)
    title = String(required=True, validate=Length(1, 100))
    body = String(load_default="", multiline=True, validate=Length(0, 5000))
    kind = String(load_default="other", validate=OneOf(list(KINDS), error="未知的事项类型"))
    rule = Nested(RuleIn, load_default=lambda: RuleIn().load({}))
    options = List(Nested(OptionIn), load_default=None, validate=Length(2, 20))
    opens_at = DateTime(load_default=None)
    closes_at = DateTime(required=True)


class FlatQuery(Schema):
    flat_id = Id(load_default=None, in_query=True)


class BallotIn(Schema):
    flat_id = Id(required=True)
    choice = String(required=True, validate=Length(1, 32))
    signature = String(required=True)  # size and format: ballots.decode_image (413, 422)


class PaperBallotIn(Schema):
    flat_id = Id(required=True)
    choice = String(required=True, validate=Length(1, 32))
    photo = String(required=True)  # size and format: ballots.decode_image (413, 422)

"""Request and response schemas shared by the API blueprints."""
from apiflask import Schema
from apiflask.fields import Integer, String
from apiflask.validators import Length, OneOf, Regexp

from app.models.bindings import RELATIONS


class CodeIn(Schema):
    code = String(required=True, validate=Length(1, 128))


class BindingIn(Schema):
    flat_id = Integer(required=True)
    relation = String(required=True, validate=OneOf(list(RELATIONS), error="应为 owner、family 或 tenant"))
    name = String(required=True, validate=Length(1, 32, error="请填写 1 到 32 个字的姓名"))
    phone_last4 = String(load_default=None, validate=Regexp(r"^\d{4}$", error="应为手机号后 4 位数字"))


class ReasonIn(Schema):
    reason = String(load_default=None, validate=Length(0, 200, error="原因不超过 200 字"))


class BindingQuery(Schema):
    status = String(load_default="pending", validate=OneOf(["pending", "approved", "rejected", "unbound"]))

"""What every handler shares: the success envelope and Chinese validation messages."""
from marshmallow import fields

# marshmallow speaks English; residents read Chinese (DESIGN.md §6).
fields.Field.default_error_messages.update(
    required="必填项",
    null="不能为空",
    validator_failed="取值无效",
)
fields.String.default_error_messages.update(invalid="应为文本")
fields.Integer.default_error_messages.update(invalid="应为整数")
fields.Number.default_error_messages.update(invalid="应为数字", too_large="数值过大")
fields.Boolean.default_error_messages.update(invalid="应为 true 或 false")
fields.List.default_error_messages.update(invalid="应为列表")
fields.Nested.default_error_messages.update(type="应为对象")
fields.DateTime.default_error_messages.update(invalid="时间格式无效（应为 ISO 8601）")


def ok(data, status=200):
    """The success envelope: {"data": ...}."""
    return {"data": data}, status

"""WeChat's access token, kept in the database so every process shares one when there is no Redis."""
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class WechatToken(db.Model):
    __tablename__ = "wechat_token"
    appid: Mapped[str] = mapped_column(String(32), primary_key=True)
    # WeChat asks for at least 512 characters of room.
    token: Mapped[str] = mapped_column(String(512))
    # Naive UTC, like every other timestamp of the schema.
    expires_at: Mapped[datetime]

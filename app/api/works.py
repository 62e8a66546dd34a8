"""(being built: issue 12)"""
from apiflask import APIBlueprint

bp = APIBlueprint("works", __name__, url_prefix="/api/v1", tag="works")

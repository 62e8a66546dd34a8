"""(being built: issue 12)"""
from apiflask import APIBlueprint

bp = APIBlueprint("surveys", __name__, url_prefix="/api/v1", tag="surveys")

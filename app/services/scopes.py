"""Staff scopes: which part of the place tree each role may see, decided on the server.

A user's roles and the place chains of buildings and compounds are read once per request and kept
with it (in the WSGI environ, so they end with the request); a flush that adds, changes or deletes a
role or a place drops them, so a grant or a grid move in the same request is seen at once. Outside a
request (jobs, commands) nothing is kept."""
from collections import namedtuple

from flask import has_request_context, request
from sqlalchemy import event, false, or_, true
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Building, Community, Compound, Grid, StaffRole, Street
from app.models.accounts import ROLES

# A role as the scope rules read it: a snapshot, so that a commit (which expires the user's role rows)
# costs no reload for the rest of the request.
Role = namedtuple("Role", "role scope_type scope_id")

_CACHE_KEY = "gongjian.scopes"
_PLACES = (StaffRole, Building, Compound, Community, Street, Grid)


def _cache():
    """This request's cache ({} outside a request: nothing outlives the call)."""
    if not has_request_context():
        return {}
    return request.environ.setdefault(_CACHE_KEY, {})


@event.listens_for(Session, "after_flush")
def _forget_changed_scopes(session, flush_context):
    if has_request_context() and _CACHE_KEY in request.environ and any(
            isinstance(obj, _PLACES) for obj in (*session.new, *session.dirty, *session.deleted)):
        del request.environ[_CACHE_KEY]


def roles_of(user, *names):
    """The user's staff roles (Role snapshots), optionally only those named; read once per request."""
    if user is None:
        return []
    cache = _cache().setdefault("roles", {})
    roles = cache.get(user.id)
    if roles is None:
        roles = cache[user.id] = [Role(r.role, r.scope_type, r.scope_id) for r in user.roles]
    return [r for r in roles if not names or r.role in names]


# The columns of a building's chain, in the order of CHAIN_KEYS; the query must join the place tree.
CHAIN_KEYS = ("grid", "compound", "community", "street", "district")
CHAIN_COLUMNS = (Building.grid_id, Building.compound_id, Compound.community_id, Community.street_id, Street.district_id)


def chain_from_row(values):
    """A building's chain from the CHAIN_COLUMNS values of a row."""
    return dict(zip(CHAIN_KEYS, values))


def building_chains(building_ids):
    """{building id: chain} for these buildings: those not yet known in this request in one statement."""
    cache = _cache().setdefault("buildings", {})
    missing = {i for i in building_ids if i is not None} - set(cache)
    if missing:
        rows = db.session.execute(join_place_tree(db.select(Building.id, *CHAIN_COLUMNS)).where(Building.id.in_(missing)))
        for building_id, *values in rows:
            cache[building_id] = chain_from_row(values)
    return {i: cache[i] for i in building_ids if i in cache}


def compound_chain(compound):
    """The scope nodes a compound lies under: {"compound": id, "community": id, ...}."""
    cache = _cache().setdefault("compounds", {})
    chain = cache.get(compound.id)
    if chain is None:
        community = compound.community
        street = community.street
        chain = cache[compound.id] = {"compound": compound.id, "community": community.id, "street": street.id,
                                      "district": street.district_id}
    return chain


def building_chain(building):
    """The scope nodes a building lies under: the compound's, and its grid."""
    cache = _cache().setdefault("buildings", {})
    chain = cache.get(building.id)
    if chain is None:
        chain = cache[building.id] = {"grid": building.grid_id, **compound_chain(building.compound)}
    return chain


def covers_chain(role, chain):
    """Does this one role's scope contain the place whose chain this is?"""
    if role.role == "admin":
        return True
    return role.scope_id is not None and chain.get(role.scope_type) == role.scope_id


def covers(role, building):
    """Does this one role's scope contain the building?"""
    return covers_chain(role, building_chain(building))


def covers_compound(role, compound):
    """Does this role's scope contain the whole compound (a grid never does)?"""
    return covers_chain(role, compound_chain(compound))


def can(user, building, *role_names):
    """Does the user hold one of these roles with a scope containing the building?"""
    return any(covers(role, building) for role in roles_of(user, *role_names))


def buildings_condition(user, *role_names):
    """A SQL condition on Building (joined to Compound, Community, Street) for the user's scopes."""
    terms = []
    for role in roles_of(user, *role_names):
        if role.role == "admin":
            return true()
        column = dict(zip(CHAIN_KEYS, CHAIN_COLUMNS)).get(role.scope_type)
        if column is not None and role.scope_id is not None:
            terms.append(column == role.scope_id)
    return or_(*terms) if terms else false()


def join_place_tree(query):
    """Join Building up to Street so that buildings_condition can filter it."""
    return query.join(Compound, Building.compound_id == Compound.id).join(
        Community, Compound.community_id == Community.id
    ).join(Street, Community.street_id == Street.id)



def scope_node(scope_type, scope_id):
    """The place a scope names, or None."""
    from app.models import District, Grid

    model = {"grid": Grid, "compound": Compound, "community": Community, "street": Street, "district": District}.get(
        scope_type
    )
    return db.session.get(model, scope_id) if model and scope_id is not None else None


def describe(role):
    """A role as the API shows it: {role, role_name, scope: {type, id, name}}."""
    node = scope_node(role.scope_type, role.scope_id)
    return {
        "role": role.role,
        "role_name": ROLES[role.role][0],
        "scope": {"type": role.scope_type, "id": role.scope_id, "name": node.name if node else None}
        if role.scope_type
        else None,
    }


def grant(user, role, scope_type=None, scope_id=None):
    """Give a staff role with its scope; the scope must exist and fit the role."""
    if role not in ROLES:
        raise ValueError(f"未知角色 {role}，可选：{', '.join(ROLES)}")
    expected = ROLES[role][1]
    if expected is None:
        scope_type, scope_id = None, None
    elif scope_type != expected:
        raise ValueError(f"角色 {role} 的范围应为 {expected}:<id>")
    elif scope_node(scope_type, scope_id) is None:
        raise ValueError(f"范围 {scope_type}:{scope_id} 不存在")
    existing = db.session.scalar(
        db.select(StaffRole).filter_by(user_id=user.id, role=role, scope_type=scope_type, scope_id=scope_id)
    )
    if existing:
        return existing
    staff_role = StaffRole(user=user, role=role, scope_type=scope_type, scope_id=scope_id)
    db.session.add(staff_role)
    db.session.flush()
    return staff_role

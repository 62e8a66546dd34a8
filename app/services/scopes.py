"""Staff scopes: which part of the place tree each role may see, decided on the server."""
from sqlalchemy import false, or_, true

from app.extensions import db
from app.models import Building, Community, Compound, StaffRole, Street
from app.models.accounts import ROLES


def roles_of(user, *names):
    """The user's staff roles, optionally only those named."""
    if user is None:
        return []
    return [r for r in user.roles if not names or r.role in names]


def compound_chain(compound):
    """The scope nodes a compound lies under: {"compound": id, "community": id, ...}."""
    community = compound.community
    street = community.street
    return {"compound": compound.id, "community": community.id, "street": street.id, "district": street.district_id}


def building_chain(building):
    """The scope nodes a building lies under: the compound's, and its grid."""
    return {"grid": building.grid_id, **compound_chain(building.compound)}


def covers(role, building):
    """Does this one role's scope contain the building?"""
    if role.role == "admin":
        return True
    return role.scope_id is not None and building_chain(building).get(role.scope_type) == role.scope_id


def covers_compound(role, compound):
    """Does this role's scope contain the whole compound (a grid never does)?"""
    if role.role == "admin":
        return True
    return role.scope_id is not None and compound_chain(compound).get(role.scope_type) == role.scope_id


def can(user, building, *role_names):
    """Does the user hold one of these roles with a scope containing the building?"""
    return any(covers(role, building) for role in roles_of(user, *role_names))


def buildings_condition(user, *role_names):
    """A SQL condition on Building (joined to Compound, Community, Street) for the user's scopes."""
    terms = []
    for role in roles_of(user, *role_names):
        if role.role == "admin":
            return true()
        column = {
            "grid": Building.grid_id,
            "compound": Building.compound_id,
            "community": Compound.community_id,
            "street": Community.street_id,
            "district": Street.district_id,
        }.get(role.scope_type)
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

"""flask commands for operators: roster, grids, staff, QR codes, demo seed. Help texts in Chinese and English."""
import click
from flask.cli import AppGroup

from app.extensions import db

roster = AppGroup("roster", help="名册：导入与模板 / Roster: import and template.")
demo = AppGroup("demo", help="演示数据 / Demo data.")
staff = AppGroup("staff", help="工作人员角色与范围 / Staff roles and scopes.")
qr = AppGroup("qr", help="楼栋二维码与海报 / Building QR codes and posters.")
grid = AppGroup("grid", help="网格：列出与调整楼栋所属网格 / Grids: list and change which grid a building is in.")


@roster.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--compound", required=True, help="小区名称 / compound name")
@click.option("--community", help="所属社区（新建小区时必填）/ community, needed for a new compound")
@click.option("--street", help="所属街道（新建小区时必填）/ street, needed for a new compound")
@click.option("--district", help="所属区县（可选）/ district, optional")
@click.option("--dry-run", is_flag=True, help="只检查不写入 / check only, write nothing")
def roster_import(path, compound, community, street, district, dry_run):
    """导入名册（.xlsx 或 .csv）：有任何错误则整表不导入。 Import a roster sheet, all rows or none."""
    from app.services.roster import RosterError, import_rows, read_sheet

    done = 0

    def progress(rows):  # the sheet is read as it is written, so its length is not known ahead
        nonlocal done
        done += rows
        if done % 10000 == 0:
            click.echo(f"已读取 {done} 行 rows read", err=True)

    try:
        report = import_rows(read_sheet(path), compound, community=community, street=street, district=district,
                             dry_run=dry_run, progress=progress)
    except RosterError as exc:
        db.session.rollback()
        if len(exc.errors) > 1 or exc.errors[0].row:
            for error in exc.errors:
                click.echo(str(error), err=True)
        raise click.ClickException(str(exc))
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(report.summary())


@roster.command("template")
@click.argument("path", type=click.Path(dir_okay=False))
def roster_template(path):
    """写出一张待填写的名册模板 (.xlsx)。 Write an .xlsx roster template to fill in."""
    from app.services.roster import write_template

    write_template(path)
    click.echo(f"已写出名册模板 {path}")


@demo.command("seed")
@click.option("--force", is_flag=True, help="即使已有数据也再写一次 / seed even if data exists")
def demo_seed(force):
    """写入演示小区和开发用工作人员账号（仅首次）。 Seed the demo compound and dev staff, once."""
    from app.services.demo import seed

    result = seed(force=force)
    db.session.commit()
    click.echo(result)


def _user(user_id, openid, create=False):
    from app.models import User

    if bool(user_id) == bool(openid):
        raise click.UsageError("请给出 --user 或 --openid 之一 / give exactly one of --user, --openid")
    user = db.session.get(User, user_id) if user_id else db.session.scalar(db.select(User).filter_by(openid=openid))
    if user is None and openid and create:
        user = User(openid=openid)  # staff may be granted before their first sign-in
        db.session.add(user)
        db.session.flush()
    if user is None and openid and create is None:
        raise click.ClickException(f"没有 openid 为 {openid} 的用户 / no user with this openid")
    if user is None and openid:
        raise click.ClickException(
            f"没有 openid 为 {openid} 的用户：请先让其在小程序中登录一次，或确认无误后加 --create 新建"
            " / no user with this openid: let them sign in once, or add --create"
        )
    if user is None:
        raise click.ClickException(f"用户 {user_id} 不存在 / no such user")
    return user


def _scope(text):
    if not text:
        return None, None
    kind, _, ident = text.partition(":")
    if not ident.isdigit():
        raise click.BadParameter("范围格式为 类型:编号，例如 compound:12 / scope is TYPE:ID, e.g. compound:12")
    return kind, int(ident)


def _grid_scope(grid_ref, compound_name):
    """("grid", id) of a grid named by id or by name (within --compound)."""
    from app.services.grids import GridError, find_compound, find_grid

    try:
        compound = find_compound(compound_name) if compound_name else None
        return "grid", find_grid(grid_ref, compound).id
    except GridError as exc:
        raise click.ClickException(str(exc))


@staff.command("grant")
@click.option("--user", "user_id", type=int, help="用户编号（见 GET /me）/ user id")
@click.option("--openid", help="微信 openid")
@click.option("--create", is_flag=True, help="openid 尚无用户时新建（其本人尚未登录过）/ create the user of an unknown openid")
@click.option("--role", required=True, help="grid_worker | committee | community_staff | street_officer | district_officer | admin")
@click.option("--scope", help="范围，例如 grid:3、compound:12、street:1 / scope, e.g. compound:12")
@click.option("--grid", "grid_ref", help="网格员的网格：名称或编号，名称可配 --compound / grid by name or id (with --compound)")
@click.option("--compound", help="--grid 所在小区名称 / the compound of --grid")
def staff_grant(user_id, openid, create, role, scope, grid_ref, compound):
    """授予工作人员角色及其范围。 Grant a staff role limited to a scope.

    网格员可写 --scope grid:3，或 --grid 第一网格 --compound 阳光里小区。
    A grid worker's grid: --scope grid:3, or --grid NAME --compound NAME."""
    from app.services.scopes import describe, grant

    if grid_ref and scope:
        raise click.UsageError("--scope 与 --grid 只能给一个 / give --scope or --grid, not both")
    if compound and not grid_ref:
        raise click.UsageError("--compound 只与 --grid 一起使用 / --compound goes with --grid")
    user = _user(user_id, openid, create=create)
    where_scope = _grid_scope(grid_ref, compound) if grid_ref else _scope(scope)
    try:
        staff_role = grant(user, role, *where_scope)
    except ValueError as exc:
        raise click.ClickException(str(exc))
    db.session.commit()
    d = describe(staff_role)
    where = f"{d['scope']['type']}:{d['scope']['id']} {d['scope']['name']}" if d["scope"] else "全部"
    click.echo(f"已授予 用户 {user.id} {d['role_name']}（{role}），范围 {where}")


@staff.command("revoke")
@click.option("--user", "user_id", type=int, help="用户编号 / user id")
@click.option("--openid", help="微信 openid")
@click.option("--role", required=True, help="要收回的角色 / the role to revoke")
@click.option("--scope", help="范围（有范围的角色必填）/ scope, needed for a scoped role, e.g. compound:12")
def staff_revoke(user_id, openid, role, scope):
    """收回工作人员角色（须与授予时的范围一致）。 Revoke a staff role held with that scope."""
    from app.models import StaffRole
    from app.models.accounts import ROLES

    user = _user(user_id, openid, create=None)
    kind, ident = _scope(scope)
    held = db.session.scalars(db.select(StaffRole).filter_by(user_id=user.id, role=role)).all()
    if role in ROLES and ROLES[role][1] is not None and kind is None:
        scopes = "、".join(f"{r.scope_type}:{r.scope_id}" for r in held) or "无"
        raise click.ClickException(
            f"角色 {role} 有范围，请用 --scope 指明要收回哪一个（该用户持有的范围：{scopes}）"
            f" / {role} is scoped: say which with --scope"
        )
    match = [r for r in held if (r.scope_type, r.scope_id) == (kind, ident)]
    if not match:
        scopes = "、".join(f"{r.scope_type}:{r.scope_id}" if r.scope_type else "全部" for r in held)
        where = f"范围 {kind}:{ident} 的" if kind else ""
        raise click.ClickException(
            f"用户 {user.id} 没有{where}角色 {role}，未收回任何角色"
            + (f"（其 {role} 角色的范围：{scopes}）" if held else "")
            + " / the user does not hold this role with this scope"
        )
    for r in match:
        db.session.delete(r)
    db.session.commit()
    click.echo(f"已收回 用户 {user.id} 的角色 {role}" + (f"，范围 {kind}:{ident}" if kind else ""))


@staff.command("list")
def staff_list():
    """列出所有工作人员角色（制表符分隔）。 List staff roles, tab-separated."""
    from app.models import StaffRole
    from app.services.scopes import describe

    for r in db.session.scalars(db.select(StaffRole).order_by(StaffRole.user_id, StaffRole.id)):
        d = describe(r)
        scope = f"{d['scope']['type']}:{d['scope']['id']}\t{d['scope']['name']}" if d["scope"] else "*\t全部"
        click.echo(f"{r.user_id}\t{r.user.name or ''}\t{r.role}\t{d['role_name']}\t{scope}")


@qr.command("list")
@click.option("--compound", required=True, help="小区名称 / compound name")
def qr_list(compound):
    """首行为小区编号，其后每栋楼一行：编号、名称、scene、链接（制表符分隔）。
    First line: the compound id; then a line per building: id, name, scene, URL (tab-separated)."""
    from app.services.qrcodes import compound_buildings, scan_url

    try:
        comp, buildings = compound_buildings(compound)
    except LookupError as exc:
        raise click.ClickException(str(exc))
    # The first line names the compound and its id (for --scope compound:ID); rows follow, tab-separated.
    lines = [f"# 小区 compound:{comp.id}\t{comp.name}\t{comp.community.name}"]
    lines += [f"{b.id}\t{b.name}\t{b.scene or ''}\t{scan_url(b)}" for b in buildings]
    db.session.commit()  # scenes given to buildings that had none
    click.echo("\n".join(lines))


@qr.command("posters")
@click.option("--compound", required=True, help="小区名称 / compound name")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="输出目录 / output folder")
def qr_posters(compound, out_dir):
    """每栋楼一张 A4 海报 PNG，全小区一份 PDF。 One A4 PNG poster per building and one PDF for the compound."""
    import os

    from app.services.posters import posters_pdf, render_poster
    from app.services.qrcodes import code_png, compound_buildings, unreachable_help
    from app.wechat.client import WeChatError

    try:
        comp, buildings = compound_buildings(compound)
    except LookupError as exc:
        raise click.ClickException(str(exc))
    os.makedirs(out_dir, exist_ok=True)
    community = comp.community.name
    posters = []
    with click.progressbar(buildings, label="生成海报 posters", show_pos=True) as bar:
        for b in bar:
            try:
                code = code_png(b)
            except WeChatError as exc:
                db.session.rollback()
                raise click.ClickException(unreachable_help(exc))
            posters.append((comp.name, b.name, code))
            with open(os.path.join(out_dir, f"{comp.name}-{b.name}.png"), "wb") as fh:
                fh.write(render_poster(comp.name, b.name, code, community_name=community))
    db.session.commit()  # scenes given to buildings that had none
    pdf = os.path.join(out_dir, f"{comp.name}-楼栋二维码.pdf")
    with open(pdf, "wb") as fh:
        fh.write(posters_pdf(posters, community_name=community, title=f"{comp.name} 楼栋二维码"))
    click.echo(f"已生成 {len(posters)} 张海报和 {pdf}")


@grid.command("list")
@click.option("--compound", required=True, help="小区名称 / compound name")
def grid_list(compound):
    """每个网格一行：网格编号、名称、楼栋（制表符分隔）；未划入网格的楼栋以 - 开头。
    A line per grid: id, name, buildings (tab-separated); buildings in no grid on a line starting with -."""
    from app.services.grids import GridError, find_compound, grids_of

    try:
        comp = find_compound(compound)
    except GridError as exc:
        raise click.ClickException(str(exc))
    grids, loose = grids_of(comp)
    for g, names in grids:
        click.echo(f"{g.id}\t{g.name}\t{'、'.join(names)}")
    if loose:
        click.echo(f"-\t未划入网格\t{'、'.join(loose)}")
    if not grids and not loose:
        click.echo(f"小区「{comp.name}」还没有楼栋", err=True)


@grid.command("assign")
@click.option("--compound", required=True, help="小区名称 / compound name")
@click.option("--building", "buildings", required=True, multiple=True, help="楼栋名称，可重复 / building name, repeatable")
@click.option("--grid", "grid_name", required=True, help="网格名称，没有则新建 / grid name, created if new")
def grid_assign(compound, buildings, grid_name):
    """把楼栋划入网格（网格不存在则新建）。 Put buildings into a grid, creating the grid if needed."""
    from app.services.grids import GridError, assign, find_compound

    try:
        grid_obj, created, moved = assign(find_compound(compound), buildings, grid_name)
    except GridError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc))
    db.session.commit()
    text = f"网格 {grid_obj.name}（grid:{grid_obj.id}）" + ("已新建；" if created else "：")
    text += f"划入 {'、'.join(moved)}" if moved else "楼栋已在该网格，未改变"
    click.echo(text)


audit = AppGroup("audit", help="审计日志 / Audit log.")


@audit.command("verify")
def audit_verify():
    """校验哈希链及其记录的表决票、名册和结果；发现改动则失败并指出第一处。
    Verify the hash chains and the rows they vouch for; fail naming the first edited row."""
    from app.services.verification import verify

    problems = verify()
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"审计校验失败：{len(problems)} 条链有问题 / audit verification failed")
    from app.models import AuditChain, AuditEntry, VoteSlot

    chains = db.session.scalar(db.select(db.func.count()).select_from(AuditChain)
                               .where(AuditChain.name.like("consultation:%")))
    plan_chains = db.session.scalar(db.select(db.func.count()).select_from(AuditChain)
                                    .where(AuditChain.name.like("plan:%")))
    binding_chains = db.session.scalar(db.select(db.func.count()).select_from(AuditChain)
                                       .where(AuditChain.name.like("%/bindings")))
    people = db.session.scalar(db.select(db.func.count()).select_from(VoteSlot).where(VoteSlot.seq > 0))
    entries = db.session.scalar(db.select(db.func.count()).select_from(AuditEntry))
    click.echo(f"审计校验通过：{chains} 条征询链，{people} 条个人表决记录链，{binding_chains} 条小区绑定记录链，"
               f"{plan_chains} 条出资方案链，"
               f"共 {entries} 条记录 / audit verified")


@audit.command("head")
def audit_head():
    """打印每条审计链的当前链头摘要（制表符分隔），供公示；日后可据此核对此前记录未被改写。
    Print every audit chain's current head digest (tab-separated: chain, entries, head), to publish."""
    from app.services.audit import heads

    for name, seq, digest in heads():
        click.echo(f"{name}\t{seq}\t{digest}")


@click.command("scheduler")
def scheduler():
    """启动定时任务进程（截止并计票等）。 Run the scheduler process (closing due consultations, ...)."""
    from flask import current_app

    from app.jobs import run

    run(current_app._get_current_object())


jobs = AppGroup("jobs", help="定时任务：列出或立即运行一次 / Scheduled jobs: list them, or run one once now.")
outbox = AppGroup("outbox", help="订阅消息发件箱：卡住的消息与重发 / The subscribe-message outbox: stuck rows, retries.")


@jobs.command("list")
def jobs_list():
    """列出定时任务进程运行的任务及其间隔（制表符分隔）。 List the scheduler's jobs and how often each runs."""
    from app.jobs import JOBS

    for job, seconds in JOBS:
        summary = (job.__doc__ or "").strip().splitlines()[0] if job.__doc__ else ""
        click.echo(f"{job.__name__}\t每 {seconds} 秒 every {seconds}s\t{summary}")


@jobs.command("run")
@click.argument("name")
def jobs_run(name):
    """立即运行一次某个任务（与定时任务进程做的相同，可重复运行）。 Run one job once now (safe to repeat)."""
    from flask import current_app

    from app.jobs import JOBS

    found = {job.__name__: job for job, _ in JOBS}
    if name not in found:
        raise click.ClickException(f"没有名为 {name} 的任务；可用：{', '.join(found)} / no such job")
    result = found[name](current_app._get_current_object())
    click.echo(f"{name}: {result!r}")


@outbox.command("stuck")
@click.option("--older-than", "older_than", type=click.IntRange(min=0), default=300, show_default=True,
              help="领取后超过这么多秒仍在发送中 / claimed at least this many seconds ago")
def outbox_stuck(older_than):
    """列出卡在「发送中」的消息（发送进程中途退出，微信可能已送达）：由人决定是否重发。
    List rows left sending by a dispatcher that died: WeChat may have delivered them; a person decides.

    每行：编号、用户编号、模板、房屋编号、主题、领取时间（UTC）、尝试次数、是否可能已发出（制表符分隔）。
    「可能已发出」的消息请先向用户确认未收到再重发；「未发出」的可直接重发。
    One line each: id, user id, template, flat id, subject, claimed at (UTC), attempts, and whether
    WeChat may have had it ("may have been sent": ask the user first; "not sent": safe to retry)."""
    from datetime import timedelta

    from app.services.outbox import may_have_been_sent, stuck

    rows = stuck(timedelta(seconds=older_than))
    for m in rows:
        state = "可能已发出 may have been sent" if may_have_been_sent(m) else "未发出 not sent"
        click.echo(f"{m.id}\t{m.user_id}\t{m.template}\t{m.flat_id or '-'}\t{m.subject or '-'}\t"
                   f"{m.next_attempt_at.isoformat(timespec='seconds')}Z\t{m.attempts}\t{state}")
    click.echo(f"共 {len(rows)} 条卡在发送中 / {len(rows)} stuck", err=True)


@outbox.command("retry")
@click.argument("message_id", type=int)
def outbox_retry(message_id):
    """把一条未送达、已搁置或卡在发送中的消息放回队列（尝试次数归零）。重发前请确认用户确实没有收到。
    Put a failed, held or stuck message back in the queue (attempts from 0); check first that it did not arrive."""
    from app.services.outbox import OutboxError, retry

    try:
        message = retry(message_id)
    except OutboxError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"消息 {message.id} 已放回队列，将尽快发送 / message {message.id} queued again")


COMMANDS = [roster, demo, staff, qr, grid, audit, scheduler, jobs, outbox]

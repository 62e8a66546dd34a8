"""flask commands for operators: roster import, demo seed. Help texts in Chinese and English."""
import click
from flask.cli import AppGroup

from app.extensions import db

roster = AppGroup("roster", help="名册：导入与模板 / Roster: import and template.")
demo = AppGroup("demo", help="演示数据 / Demo data.")


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

    try:
        rows = list(read_sheet(path))
        with click.progressbar(length=max(len(rows) - 1, 0), label="导入中 importing", show_pos=True) as bar:
            report = import_rows(
                rows, compound, community=community, street=street, district=district,
                dry_run=dry_run, progress=bar.update,
            )
    except RosterError as exc:
        db.session.rollback()
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


COMMANDS = [roster, demo]

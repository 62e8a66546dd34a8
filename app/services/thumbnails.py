"""Thumbnails of signatures and paper-ballot photos for the evidence files, made once: a paper
ballot's photo at entry (app/services/ballots.py calls store_thumbnail), an online signature by the
scheduler a minute after signing (job make_thumbnails: the ballot's own path stays as short as it
can be), and any still missing the first time an export needs it; stored by the image's SHA-256,
so identical images share one."""
import io

from PIL import Image

from app.extensions import db
from app.models import EvidenceThumbnail
from app.models.places import utcnow

THUMB_PX = (240, 90)  # drawn at 120 × 45 (xlsx, px) and 72 × 27 pt (PDF): sharp when zoomed or printed


def make_thumbnail(data):
    """The signature (or paper photo) on white, fitted into THUMB_PX, in greys (ink on paper: a third of
    the pixels of colour, which the PDF decodes and compresses once per ballot), as PNG bytes; None if
    unreadable."""
    try:
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", THUMB_PX)  # JPEG photos decode small
        image.load()
    except Exception:  # noqa: BLE001 - a damaged blob shows as text, it must not stop the export
        return None
    if image.mode in ("RGBA", "LA", "P", "PA"):
        # Shrunk premultiplied (transparent pixels weigh nothing), then laid on white: the full-size
        # image is never composited, which keeps this cheap enough for the signing path (about 1 ms
        # for a 240 × 90 signature, 5 ms for 600 × 300, on a loaded 2-core machine).
        image = image.convert("RGBA").convert("RGBa")
        image.thumbnail(THUMB_PX, Image.LANCZOS, reducing_gap=2.0)
        image = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image).convert("RGB")
    else:
        image = image.convert("RGB")
        image.thumbnail(THUMB_PX, Image.LANCZOS, reducing_gap=2.0)
    canvas = Image.new("L", THUMB_PX, 255)
    canvas.paste(image.convert("L"), ((THUMB_PX[0] - image.width) // 2, (THUMB_PX[1] - image.height) // 2))
    out = io.BytesIO()
    canvas.save(out, "PNG")
    return out.getvalue()


def insert_ignore(table):
    """INSERT that leaves an existing row alone (INSERT IGNORE on MariaDB, ON CONFLICT DO NOTHING on SQLite)."""
    if db.session.connection().dialect.name in ("mysql", "mariadb"):
        return table.insert().prefix_with("IGNORE")
    from sqlalchemy.dialects.sqlite import insert

    return insert(table).on_conflict_do_nothing()


def store_thumbnail(sha256, data):
    """The thumbnail of an image just received (a signature at signing, a paper ballot's photo at
    entry), stored once under the image's SHA-256: identical images share one, a second store is a no-op."""
    db.session.execute(insert_ignore(EvidenceThumbnail.__table__),
                       [{"sha256": sha256, "png": make_thumbnail(data), "created_at": utcnow()}])




def make_missing(limit=500):
    """Thumbnails of the signature images of ballots that have none yet, made by the scheduler
    (job make_thumbnails) a little after signing, off the ballot's path: up to `limit` images a run,
    each read once however many ballots carry it. Returns how many were stored."""
    from app.models import Ballot, Blob

    missing = db.session.execute(
        db.select(Blob.sha256, Blob.id).join(Ballot, Ballot.signature_id == Blob.id)
        .outerjoin(EvidenceThumbnail, EvidenceThumbnail.sha256 == Ballot.signature_sha256)
        .where(EvidenceThumbnail.sha256.is_(None), Blob.sha256 == Ballot.signature_sha256)
        .group_by(Blob.sha256, Blob.id).limit(limit)).all()
    done = set()
    for sha256, blob_id in missing:
        if sha256 in done:
            continue
        data = db.session.scalar(db.select(Blob.data).where(Blob.id == blob_id))
        store_thumbnail(sha256, data)
        done.add(sha256)
    db.session.commit()
    return len(done)

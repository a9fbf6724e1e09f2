"""keyed, anchored event chain and sealed free text: case_events.hash becomes HMAC-SHA256 under the chain key
(existing chains are re-keyed here, once, by the owner); cases.event_count/event_head are kept by a trigger in
the transaction that adds an event; signed checkpoints of all chain heads; sealed columns for the free text of
cases with protected parties

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 15:10:00
"""
import hashlib
import hmac
import json

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _rekey(conn: sa.Connection) -> None:
    """Recompute every existing chain under the chain key (the canonical form of api/services/cases/trail.py
    as of this revision)."""
    if conn.execute(sa.text("SELECT NOT EXISTS (SELECT 1 FROM case_events)")).scalar():
        return
    from api.settings import Settings

    key = Settings().chain_secret()
    rows = conn.execute(sa.text(
        "SELECT id, case_id, seq, at, actor_id, action, from_status, to_status, effective_date, reason, payload"
        " FROM case_events ORDER BY case_id, seq"
    ))
    case_id, prev, updates = None, GENESIS, []
    for r in rows:
        if r.case_id != case_id:
            case_id, prev = r.case_id, GENESIS
        body = {
            "case_id": r.case_id, "seq": r.seq, "at": r.at.isoformat(), "actor_id": r.actor_id,
            "action": r.action, "from": r.from_status, "to": r.to_status,
            "effective_date": r.effective_date.isoformat() if r.effective_date else None,
            "reason": r.reason, "payload": r.payload,
        }
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest = hmac.new(key, (prev + canonical).encode(), hashlib.sha256).hexdigest()
        updates.append({"id": r.id, "prev": prev, "hash": digest})
        prev = digest
    for i in range(0, len(updates), 5000):
        conn.execute(
            sa.text("UPDATE case_events SET prev_hash = :prev, hash = :hash WHERE id = :id"), updates[i:i + 5000]
        )


def upgrade() -> None:
    op.add_column('cases', sa.Column('event_count', sa.Integer(), server_default='0', nullable=False))
    op.add_column('cases', sa.Column('event_head', sa.String(length=64), nullable=True))
    op.add_column('case_events', sa.Column('sealed', sa.Text(), nullable=True))
    op.add_column('case_dialogues', sa.Column('sealed', sa.Text(), nullable=True))
    op.create_table(
        'chain_checkpoints',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cases', sa.BigInteger(), nullable=False),
        sa.Column('events', sa.BigInteger(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    _rekey(op.get_bind())
    op.execute("""
        UPDATE cases c SET event_count = e.seq, event_head = e.hash
        FROM (SELECT DISTINCT ON (case_id) case_id, seq, hash FROM case_events ORDER BY case_id, seq DESC) e
        WHERE e.case_id = c.id
    """)
    # The anchor moves with every event, in the same transaction; an intake that writes it itself is not
    # written twice.
    op.execute("""
        CREATE FUNCTION case_events_anchor() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE cases SET event_count = NEW.seq, event_head = NEW.hash
             WHERE id = NEW.case_id AND (event_count, event_head) IS DISTINCT FROM (NEW.seq, NEW.hash);
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER case_events_anchor AFTER INSERT ON case_events
        FOR EACH ROW EXECUTE FUNCTION case_events_anchor()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER case_events_anchor ON case_events")
    op.execute("DROP FUNCTION case_events_anchor()")
    op.drop_table('chain_checkpoints')
    op.drop_column('case_dialogues', 'sealed')
    op.drop_column('case_events', 'sealed')
    op.drop_column('cases', 'event_head')
    op.drop_column('cases', 'event_count')

"""a denunciation's title and content sealed at rest, a keyed word index for search, keyed idempotency fingerprints (issue 21)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 13:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A denunciation's title and content, sealed (the clear columns then hold ""), and the keyed MACs of its folded
    # words with their GIN index. A migration holds no keys: rows written before this revision are sealed by the
    # service (`python -m api seal-existing`, and the jobs round, api/services/cases/sealed_text.py).
    op.add_column('cases', sa.Column('sealed_text', sa.Text(), nullable=True))
    op.add_column('cases', sa.Column('text_words', postgresql.ARRAY(sa.BigInteger()), nullable=True))
    op.execute("CREATE INDEX ixx_cases_text_words ON cases USING gin (text_words) WHERE text_words IS NOT NULL")
    # What is still to seal (empty once the service has run): found without a scan of every case.
    op.execute("CREATE INDEX ixx_cases_to_seal ON cases (id) WHERE kind = 'denunciation' AND sealed_text IS NULL")
    # Fingerprints still inside their window: the jobs round erases those past it without a scan of every case.
    op.execute("CREATE INDEX ixx_cases_idempotency_window ON cases (created_at) "
               "WHERE idempotency_fingerprint IS NOT NULL")
    # The plain SHA-256 fingerprints of earlier revisions would still let a dump confirm a guessed letter: gone
    # (a retry of a letter taken in before this revision is then 422 idempotency_key_expired).
    op.execute("UPDATE cases SET idempotency_fingerprint = NULL WHERE idempotency_fingerprint IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ixx_cases_idempotency_window")
    op.execute("DROP INDEX IF EXISTS ixx_cases_to_seal")
    op.execute("DROP INDEX IF EXISTS ixx_cases_text_words")
    op.drop_column('cases', 'text_words')
    op.drop_column('cases', 'sealed_text')

"""A denunciation's title and content, sealed at rest (issue 21), and the keyed index of their words.

What a denunciation says may name or point to its denouncer, so on a denunciation (`confidentiality.
seals_free_text`) the title and content are sealed together under the identity keys (one Fernet token in
`cases.sealed_text`, like the sealed free text of its events) and the clear columns hold "": neither they, nor the
stored full-text vector built from them (migration 0006), nor the trigram indexes hold a word of it. Search still
finds it by its words: each word, folded (lowercase, no accents, đ → d), is stored as a keyed 64-bit MAC (BLAKE2b
under a key derived from the identity keys, never stored) in `cases.text_words`, with a GIN index; a query's words
are MACed the same way and the case must hold them all. The list filters by the caller's readable scope first, so
only those who may read the case find it. Without the key a dump's MACs confirm no guessed word (the same word has
the same MAC in every denunciation, so a dump shows which denunciations share words, not which words). The letter
names its author (LTC art. 23), so the index leaves out every word of a protected party's name, ID number and phone,
and their address where written whole (`indexed_words`): a search by them finds nothing, for anybody. Those who may
read the case but not its identities get the text with them masked (presenters.text, confidentiality.redact).

The same derived keys make the Idempotency-Key fingerprint (intake.fingerprint_input): an HMAC, not a plain
SHA-256 that a list of suspects could be tried against.
"""

import hashlib
import hmac
import json
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.services import audit
from api.settings import Settings
from api.vault import Vault, vault_for
from workflows.confidentiality import is_protected, redact, seals_free_text

_WORD = re.compile(r"\w+")
MAX_QUERY_WORDS = 10
SEAL_BATCH = 500
# One process at a time seals the rows written before revision 0021 (see seal_existing).
SEAL_LOCK = 0x7469_6570_5345_414C  # "tiepSEAL"
log = logging.getLogger(__name__)


class TextKeys:
    """Keys derived from the oldest identity key (so that adding a key to rotate changes no MAC), each under its
    own label: they are not in the database, and a MAC made under one says nothing about the other."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        base = keys[-1].encode()
        # Keyed BLAKE2b, its key set up once (each word's MAC starts from a copy).
        self._words = hashlib.blake2b(key=hashlib.sha256(b"tiepdan-case-words:" + base).digest(), digest_size=8)
        self._idempotency = hashlib.sha256(b"tiepdan-idempotency-fingerprint:" + base).digest()

    def word(self, folded_word: str) -> int:
        """The keyed MAC of one folded word, as a signed 64-bit integer (a bigint of `text_words`)."""
        mac = self._words.copy()
        mac.update(folded_word.encode())
        return int.from_bytes(mac.digest(), "big", signed=True)

    def words(self, text: str) -> list[int]:
        return sorted(self.word(w) for w in words_of(text))

    def idempotency(self, data: bytes) -> str:
        return hmac.new(self._idempotency, data, hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _keys(keys: tuple[str, ...]) -> TextKeys:
    return TextKeys(keys)


def keys_for(settings: Settings) -> TextKeys:
    return _keys(tuple(settings.identity_key_list()))


_COMBINING = re.compile("[\u0300-\u036f]+")


def fold(text: str) -> str:
    """Lowercase, without accents (đ → d): "Đất ĐAI" → "dat dai", as the clear search folds it (in C: NFD, then
    the combining marks removed by one regular expression)."""
    return _COMBINING.sub("", unicodedata.normalize("NFD", text.lower())).replace("đ", "d")


def words_of(text: str) -> set[str]:
    return set(_WORD.findall(fold(text)))


@dataclass(frozen=True)
class Sealed:
    """What a denunciation's text is stored as: empty clear columns, the sealed token, the words' MACs (as a
    PostgreSQL array literal, for the intake statement's text column)."""

    title: str
    content: str
    sealed_text: str
    words: str


def _literal(macs: list[int]) -> str:
    return "{" + ",".join(map(str, macs)) + "}"


# The fields of a protected party's identity whose every word is left out of the index (an address is left out
# only where the text writes it whole: its words — a commune, a hamlet — are also the words of the matter).
UNINDEXED_FIELDS = ("full_name", "id_number", "phone")


def indexed_words(text: str, identities: Sequence[Mapping[str, Any]] = ()) -> set[str]:
    """The folded words of a sealed text that its index holds: none of a protected party's identity (issue 21, LTC
    art. 47). `identities`: the protected parties' {full_name, id_number, phone, address}. Each one written whole in
    the text (any case, accents, spacing: `confidentiality.redact`) is cut out first, then every word of a name, an
    ID number or a phone (and the number's digits run together) is left out wherever it stands — so that a search by
    a denouncer's name, ID number or phone finds nothing, for anybody."""
    if not identities:
        return words_of(text)
    cut = redact(text, [str(i[k]) for i in identities for k in (*UNINDEXED_FIELDS, "address") if i.get(k)], mask="\n")
    left_out: set[str] = set()
    for identity in identities:
        for field in UNINDEXED_FIELDS:
            value = str(identity.get(field) or "")
            left_out |= words_of(value)
            if field != "full_name":
                left_out.add("".join(ch for ch in value if ch.isdigit()))
    return words_of(cut) - left_out


def seal(
    vault: Vault, keys: TextKeys, title: str, content: str, identities: Sequence[Mapping[str, Any]] = ()
) -> Sealed:
    """One Fernet token for both fields (one encryption on the intake's hot path); the index without the words of
    the protected parties' identities (`indexed_words`)."""
    return Sealed(
        title="",
        content="",
        sealed_text=vault.seal({"title": title, "content": content}),
        words=_literal(sorted(keys.word(w) for w in indexed_words(title + "\n" + content, identities))),
    )


def seals(kind: str, identity_protected: bool = False) -> bool:
    return seals_free_text(kind, identity_protected)


def opened(case: Any, vault: Vault) -> tuple[str, str]:
    """The case's (title, content), opened if sealed; for a caller who may read the case."""
    if getattr(case, "sealed_text", None) is None:
        return case.title, case.content
    text = vault.open(case.sealed_text)
    return str(text["title"]), str(text["content"])


def matches_words(column: Any, keys: TextKeys, query: str) -> sa.ColumnElement[bool]:
    """Every word of `query` is a word of the sealed text behind `column` (`cases.text_words`)."""
    words = sorted({keys.word(w) for w in _WORD.findall(fold(" ".join(query.split()[:MAX_QUERY_WORDS])))})
    if not words:
        return sa.false()
    wanted = sa.cast(sa.literal(words, ARRAY(sa.BigInteger)), ARRAY(sa.BigInteger))
    return sa.and_(column.is_not(None), column.op("@>")(wanted))  # the partial index ixx_cases_text_words


TO_SEAL = sa.text("SELECT count(*) FROM cases WHERE kind = 'denunciation' AND sealed_text IS NULL")  # ixx_cases_to_seal


async def protected_identities(
    session: AsyncSession, vault: Vault, case_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """The protected parties' identities of these cases (opened where sealed), for their index (`indexed_words`)."""
    rows = (
        await session.execute(
            sa.text(
                "SELECT p.case_id, p.role, p.full_name, p.id_number, p.phone, p.address, p.sealed, c.kind, "
                "c.identity_protected FROM case_parties p JOIN cases c ON c.id = p.case_id "
                "WHERE p.case_id = ANY(CAST(:ids AS bigint[]))"
            ),
            {"ids": case_ids},
        )
    ).all()
    found: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        if is_protected(r.role, r.kind, r.identity_protected):
            clear = {"full_name": r.full_name, "id_number": r.id_number, "phone": r.phone, "address": r.address}
            found.setdefault(r.case_id, []).append(vault.open(r.sealed) if r.sealed is not None else clear)
    return found


async def seal_existing(session: AsyncSession, settings: Settings, *, batch: int = SEAL_BATCH) -> int:
    """Seal the denunciations written in clear before revision 0021 (a migration has no keys), a batch per
    transaction, under an advisory lock so that processes starting together do not do it twice; idempotent. How
    many were sealed (0 when none is left, or another process holds the lock)."""
    vault, keys = vault_for(settings), keys_for(settings)
    total = 0
    while True:
        locked = await session.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
        if not locked:
            await session.rollback()
            return total
        rows = (
            await session.execute(
                sa.text(
                    "SELECT id, title, content FROM cases WHERE kind = 'denunciation' AND sealed_text IS NULL "
                    "ORDER BY id LIMIT :n FOR UPDATE"
                ),
                {"n": batch},
            )
        ).all()
        if rows:
            identities = await protected_identities(session, vault, [r.id for r in rows])
            sealed = [seal(vault, keys, row.title, row.content, identities.get(row.id, ())) for row in rows]
            await session.execute(
                sa.text(
                    "UPDATE cases c SET title = '', content = '', sealed_text = v.s, "
                    "text_words = CAST(v.w AS bigint[]) "
                    "FROM unnest(CAST(:ids AS bigint[]), CAST(:s AS text[]), CAST(:w AS text[])) AS v(id, s, w) "
                    "WHERE c.id = v.id"
                ),
                {"ids": [r.id for r in rows], "s": [x.sealed_text for x in sealed], "w": [x.words for x in sealed]},
            )
            _sealed_in_place(session, "cases", len(rows))
        await session.commit()
        total += len(rows)
        if len(rows) < batch:
            return total


async def reindex_sealed(session: AsyncSession, settings: Settings, *, batch: int = SEAL_BATCH) -> int:
    """Rebuild the keyed word index of every sealed text (`indexed_words`), a batch per transaction under the
    sealing lock: for the rows indexed before the index left out the protected parties' identities (issue 21,
    audit 2), once after upgrading (`python -m api seal-existing --reindex`); idempotent. How many were indexed."""
    vault, keys = vault_for(settings), keys_for(settings)
    total, after = 0, 0
    while True:
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
        rows = (
            await session.execute(
                sa.text(
                    "SELECT id, sealed_text FROM cases WHERE sealed_text IS NOT NULL AND id > :after "
                    "ORDER BY id LIMIT :n FOR UPDATE"
                ),
                {"after": after, "n": batch},
            )
        ).all()
        if rows:
            identities = await protected_identities(session, vault, [r.id for r in rows])
            words = []
            for row in rows:
                text = vault.open(row.sealed_text)
                found = indexed_words(f"{text['title']}\n{text['content']}", identities.get(row.id, ()))
                words.append(_literal(sorted(keys.word(w) for w in found)))
            await session.execute(
                sa.text(
                    "UPDATE cases c SET text_words = CAST(v.w AS bigint[]) "
                    "FROM unnest(CAST(:ids AS bigint[]), CAST(:w AS text[])) AS v(id, w) WHERE c.id = v.id"
                ),
                {"ids": [r.id for r in rows], "w": words},
            )
        await session.commit()
        total += len(rows)
        if len(rows) < batch:
            return total
        after = rows[-1].id


COPY_HASHES_TO_SEAL = sa.text("SELECT count(*) FROM attachments WHERE copy_sha256 IS NOT NULL")


async def seal_copy_hashes(session: AsyncSession, settings: Settings, *, batch: int = SEAL_BATCH) -> int:
    """Move the SHA-256 of each attachment's metadata-stripped copy that revisions before the outside audit kept in
    clear (`attachments.copy_sha256`) into the row's sealed metadata (`attachments.sealed`, JSON {filename, sha256,
    copy_sha256}), and clear the column: the copy is made the same way from the same photo, so its clear SHA-256
    would name, to whoever holds a dump and the photo, the denunciation carrying it. A batch per transaction under
    the sealing lock; idempotent. How many rows were sealed (0 when none is left, or another process holds the
    lock)."""
    vault = vault_for(settings)
    total = 0
    while True:
        locked = await session.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
        if not locked:
            await session.rollback()
            return total
        rows = (
            await session.execute(
                sa.text(
                    "SELECT id, sealed, copy_sha256 FROM attachments WHERE copy_sha256 IS NOT NULL "
                    "ORDER BY id LIMIT :n FOR UPDATE"
                ),
                {"n": batch},
            )
        ).all()
        if rows:
            sealed = [vault.seal({**vault.open(row.sealed), "copy_sha256": row.copy_sha256}) for row in rows]
            await session.execute(
                sa.text(
                    "UPDATE attachments a SET sealed = v.s, copy_sha256 = NULL "
                    "FROM unnest(CAST(:ids AS bigint[]), CAST(:s AS text[])) AS v(id, s) WHERE a.id = v.id"
                ),
                {"ids": [r.id for r in rows], "s": sealed},
            )
            _sealed_in_place(session, "attachments", len(rows))
        await session.commit()
        total += len(rows)
        if len(rows) < batch:
            return total


# ---- the clear bytes an in-place sealing leaves in the tables' files (outside audit 2) ----
# An UPDATE leaves the old row version's bytes in the table's pages (VACUUM only marks them free), and a base backup
# (pg_basebackup) copies the pages. Each sealing batch above is audited (SEALED_IN_PLACE), `rewrite_tables` (VACUUM
# FULL, as the tables' owner: `python -m api seal-existing`) writes the tables anew and is audited (REWRITTEN), and
# `python -m api backup` refuses while rows are left in clear or a sealing is newer than the last rewrite.
REWRITTEN_TABLES = ("cases", "attachments")
SEALED_IN_PLACE, REWRITTEN = "sealed_in_place", "tables_rewritten"
_LAST = (
    "COALESCE((SELECT max(id) FROM audit_events WHERE entity = 'database' AND entity_id = 'sealed_text' "
    "AND action = '{}'), 0)"
)
REWRITE_PENDING_SQL = f"SELECT {_LAST.format(SEALED_IN_PLACE)} > {_LAST.format(REWRITTEN)}"
LEFT_IN_CLEAR_SQL = (
    "SELECT (SELECT count(*) FROM cases WHERE kind = 'denunciation' AND sealed_text IS NULL) "
    "+ (SELECT count(*) FROM attachments WHERE copy_sha256 IS NOT NULL)"
)


def _sealed_in_place(session: AsyncSession, table: str, rows: int) -> None:
    audit.record(
        session,
        actor_id=None,
        entity="database",
        entity_id="sealed_text",
        action=SEALED_IN_PLACE,
        payload={"table": table, "rows": rows},
    )


async def seal_in_round(session: AsyncSession, settings: Settings) -> int:
    """The jobs round's sealing (`seal_existing`, `seal_copy_hashes`). It runs as the application role, which may
    not rewrite the tables: when it sealed anything it says so, loudly (the clear text stays in the tables' files,
    and `backup` refuses, until `python -m api seal-existing` runs as the owner)."""
    sealed = await seal_existing(session, settings) + await seal_copy_hashes(session, settings)
    if sealed:
        log.warning(
            "%d rows sealed in place: the clear text they held stays in the tables' files (and in any backup or WAL "
            "archive) until `python -m api seal-existing` runs as the database owner and rewrites the tables; "
            "`python -m api backup` refuses until then",
            sealed,
        )
    return sealed


async def rewrite_tables(engine: AsyncEngine) -> bool:
    """VACUUM FULL of the sealed tables: each written anew (indexes and TOAST included), the old files, with the
    bytes of every row version an in-place sealing replaced, deleted. Takes an ACCESS EXCLUSIVE lock on each table
    for its duration. Only the tables' owner may: False when a table was not rewritten (PostgreSQL skips a table
    it may not vacuum with a warning; its file is then the same), True (and audited) when all were."""
    files = "SELECT array_agg(pg_relation_filenode(CAST(t AS regclass)) ORDER BY t) FROM unnest(CAST(:t AS text[])) t"
    tables = {"t": list(REWRITTEN_TABLES)}
    async with engine.connect() as plain:
        conn = await plain.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
        await conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": SEAL_LOCK})  # no sealing meanwhile
        try:
            before = list(await conn.scalar(sa.text(files), tables))
            for table in REWRITTEN_TABLES:
                await conn.execute(sa.text(f"VACUUM (FULL, ANALYZE) {table}"))
            after = list(await conn.scalar(sa.text(files), tables))
            if any(a == b for a, b in zip(before, after, strict=True)):
                return False
            await conn.execute(
                sa.text(
                    "INSERT INTO audit_events (entity, entity_id, action, payload) "
                    "VALUES ('database', 'sealed_text', :a, CAST(:p AS jsonb))"
                ),
                {"a": REWRITTEN, "p": json.dumps({"tables": list(REWRITTEN_TABLES)})},
            )
            return True
        finally:
            await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": SEAL_LOCK})

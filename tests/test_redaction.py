"""Issue 21, LTC art. 23 and 47: a denunciation's letter names its author (the law asks for the denouncer's name and
address in it), so its title and content, shown whole to whoever may read the case, named the denouncer to the
handler, the inspectorate and the heads above, and `GET /cases?q=<name>` found the case for each of them. Now every
caller who may not see the identity (`access.sees_identity`) receives the text with each protected party's name, ID
number, phone and address masked (`text_redacted: true`); the keyed word index holds none of their words."""

import re
import unicodedata
from typing import Any

import httpx
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from api.models.cases import Case
from api.services.cases import sealed_text
from tests.conftest import SETTINGS, Api
from tests.helpers import V1, act, days_ago, intake
from tests.test_dashboard import browser, sign_in
from workflows.confidentiality import MASK, fold_text, redact

__all__ = ["browser"]  # the dashboard's signed-in client, a fixture here too

NAME, ID_NUMBER, PHONE, ADDRESS = "Giàng Seo Phủ", "015187006262", "0911888777", "Bản Phìn Ngan"
WORD = "Quảnglùng"  # a distinctive word of the denunciation itself, that search must still find
TITLE = f"Đơn tố cáo của {NAME}"
CONTENT = (
    f"Tôi tên là {NAME}, CCCD {ID_NUMBER}, điện thoại 0911 888 777, trú tại {ADDRESS}. "
    f"Tố cáo ông X nhận tiền của các hộ ở {WORD}. Ký tên: GIANG SEO PHU."
)
SECRETS = (NAME, ID_NUMBER, PHONE, "0911 888 777", ADDRESS, "GIANG SEO PHU")
HIDDEN_FROM = ("xa.xacminh", "thanhtra", "tinh.chutich")  # the handler, the inspector, a head above
SEES = ("xa.chutich", "xa.tiepdan")  # the head holding the case, the desk officer who received it in person


# ---- the pure rule ----


def test_every_form_of_a_secret_is_masked_and_the_rest_is_kept() -> None:
    out = redact(CONTENT, [NAME, ID_NUMBER, PHONE, ADDRESS])
    assert not [s for s in SECRETS if fold_text(s) in fold_text(out)]
    assert out.count(MASK) == 5
    assert out.startswith("Tôi tên là (được giữ bí mật), CCCD (được giữ bí mật), điện thoại (được giữ bí mật),")
    assert f"Tố cáo ông X nhận tiền của các hộ ở {WORD}. Ký tên: {MASK}." in out
    # Written apart (NFD), on two lines, as +84: still the same person.
    nfd = unicodedata.normalize("NFD", f"ông {NAME} ký")
    assert redact(nfd, [NAME]) == unicodedata.normalize("NFD", "ông ") + MASK + unicodedata.normalize("NFD", " ký")
    assert redact("Giàng Seo\nPhủ, +84 911.888.777", [NAME, PHONE]) == f"{MASK}, {MASK}"
    # Never inside a longer word or number, never a lone letter.
    assert redact("Giàng Seo Phủa, 1015187006262", [NAME, ID_NUMBER]) == "Giàng Seo Phủa, 1015187006262"
    assert redact("a b c", ["A", None, ""]) == "a b c"


_SYLLABLES = ["Giàng", "Seo", "Phủ", "Nguyễn", "Văn", "Ánh", "Lường", "Thị", "Mỷ", "Đặng", "Hoà", "An", "Bản", "Pìn"]
_FILLER = ["tố", "cáo", "ông", "nhận", "tiền", "của", "hộ", "nghèo", "xã", "thôn", ",", ".", "\n", "-"]


def _variant(draw: st.DrawFn, text: str) -> str:
    """The text as a letter might write it: case changed, accents dropped or written apart, spacing changed."""
    out = []
    for c in text:
        kind = draw(st.sampled_from(["same", "upper", "lower", "bare", "nfd"]))
        if kind == "upper":
            c = c.upper()
        elif kind == "lower":
            c = c.lower()
        elif kind == "bare":
            c = fold_text(c) if c.isalpha() else c
        elif kind == "nfd":
            c = unicodedata.normalize("NFD", c)
        out.append(c)
    return re.sub(" ", lambda _: draw(st.sampled_from([" ", "  ", "\n", " - "])), "".join(out))


@st.composite
def letters(draw: st.DrawFn) -> tuple[str, list[str]]:
    names = draw(
        st.lists(st.lists(st.sampled_from(_SYLLABLES), min_size=1, max_size=3).map(" ".join), min_size=1, max_size=3)
    )
    numbers = draw(st.lists(st.from_regex(r"0[1-9][0-9]{8,10}", fullmatch=True), max_size=2))
    secrets = names + numbers
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.booleans()):
            secret = draw(st.sampled_from(secrets))
            if secret.isdigit():
                gap = draw(st.sampled_from(["", " ", "."]))
                secret = gap.join(secret[i : i + 3] for i in range(0, len(secret), 3))
            parts.append(_variant(draw, secret))
        else:
            parts.append(draw(st.sampled_from(_FILLER)))
    return " ".join(parts), secrets


def _survives(secret: str, text: str) -> bool:
    """The secret, in any case, accent or spacing, as whole words (or whole digits) of the text."""
    folded = fold_text(text.replace(MASK, " maskword "))
    words = re.findall(r"[^\W_]+", fold_text(secret))
    if all(w.isdigit() for w in words):
        return "".join(words) in re.sub(r"[\s.\-]", "", folded).replace("maskword", "|")
    return re.search(r"(?<![^\W_])" + r"[\W_]+".join(words) + r"(?![^\W_])", folded) is not None


@settings(max_examples=300, deadline=None)
@given(letters())
def test_no_secret_survives_in_any_case_or_accent_variant(letter: tuple[str, list[str]]) -> None:
    text, secrets = letter
    out = redact(text, secrets)
    assert not [s for s in secrets if _survives(s, out)], (text, out)
    # What is not a secret is kept exactly as written.
    kept = [p for p in re.split(re.escape(MASK), out) if p]
    assert all(p in text for p in kept)
    if MASK not in out:
        assert out == text


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_a_text_naming_nobody_is_unchanged(text: str) -> None:
    assert redact(text, []) == text
    if "zzqxw" not in fold_text(text) and "9" not in text:
        assert redact(text, ["Zzqxw Yyqxv", "099999999999"]) == text


# ---- what each reader is shown ----


async def _denunciation(api: Api, **overrides: Any) -> dict[str, Any]:
    """A commune denunciation whose letter names its author, accepted and assigned to the commune's handler."""
    body: dict[str, Any] = {
        "kind": "denunciation",
        "field": "corruption",
        "title": TITLE,
        "content": CONTENT,
        "received_at": days_ago(40),
        "parties": [
            {"role": "denouncer", "full_name": NAME, "id_number": ID_NUMBER, "phone": PHONE, "address": ADDRESS},
            {"role": "accused", "full_name": "Ông X"},
        ],
        **overrides,
    }
    case = await intake(api, "xa.tiepdan", **body)
    case = await act(api, "xa.chutich", case, "accept", decision_number="1/QĐ", reason="Thụ lý")
    return await act(api, "xa.chutich", case, "assign", handler_ids=[(await api.user("xa.xacminh")).id])


def _names(text: str) -> list[str]:
    return [s for s in SECRETS if fold_text(s) in fold_text(text)]


async def _search(api: Api, username: str, q: str) -> list[dict[str, Any]]:
    r = await api.http.get(f"{V1}/cases", params={"q": q}, headers=await api.headers(username))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_those_who_may_not_see_the_denouncer_read_the_letter_without_them(api: Api) -> None:
    case = await _denunciation(api)
    for who in HIDDEN_FROM:
        r = await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers(who))
        assert r.status_code == 200, (who, r.text)
        got = r.json()
        assert not _names(r.text), (who, _names(r.text))
        assert got["text_redacted"] is True, who
        assert got["title"] == f"Đơn tố cáo của {MASK}"
        assert WORD in got["content"] and got["content"].count(MASK) == 5
    for who in SEES:
        got = (await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers(who))).json()
        assert (got["title"], got["content"], got["text_redacted"]) == (TITLE, CONTENT, False), who


async def test_lists_search_and_deadline_lists_mask_the_title_and_the_name_finds_nothing(api: Api) -> None:
    case = await _denunciation(api)
    for who in HIDDEN_FROM:
        listed = [c for c in await _search(api, who, WORD) if c["id"] == case["id"]]  # the letter's words still find it
        assert listed and listed[0]["title"] == f"Đơn tố cáo của {MASK}" and listed[0]["text_redacted"] is True, who
        for page in ("/deadlines/overdue", "/deadlines/due-soon"):
            r = await api.http.get(V1 + page, headers=await api.headers(who), params={"limit": 200})
            assert r.status_code == 200 and not _names(r.text), (who, page)
    for who in (*HIDDEN_FROM, *SEES):
        # The name, its words, the ID number, the phone: the keyed index holds none of them, for anybody.
        for q in (NAME, "Giang Seo Phu", "Phủ", ID_NUMBER, PHONE, "0911 888 777"):
            assert case["id"] not in [c["id"] for c in await _search(api, who, q)], (who, q)
    listed = [c for c in await _search(api, "xa.chutich", WORD) if c["id"] == case["id"]]
    assert listed[0]["title"] == TITLE and not listed[0]["text_redacted"]
    # Left unprocessed for 40 days (its processing period long over): on the overdue list of those above.
    late = await intake(
        api,
        "xa.tiepdan",
        kind="denunciation",
        field="corruption",
        title=TITLE,
        content=CONTENT,
        received_at=days_ago(40),
        parties=[{"role": "denouncer", "full_name": NAME, "id_number": ID_NUMBER}],
    )
    for who in ("thanhtra", "tinh.chutich"):
        r = await api.http.get(f"{V1}/deadlines/overdue", headers=await api.headers(who), params={"limit": 200})
        item = [u for u in r.json()["items"] if u["case_id"] == late["id"]]
        assert item and item[0]["title"] == f"Đơn tố cáo của {MASK}" and item[0]["text_redacted"] is True, who
    r = await api.http.get(f"{V1}/deadlines/overdue", headers=await api.headers("xa.chutich"), params={"limit": 200})
    assert [u["title"] for u in r.json()["items"] if u["case_id"] == late["id"]] == [TITLE]


async def test_a_desk_letter_whose_sender_asked_for_protection_is_masked_the_same(api: Api) -> None:
    case = await intake(
        api,
        "xa.tiepdan",
        kind="complaint",
        field="land",
        title=f"Khiếu nại của {NAME}",
        content=f"Tôi {NAME}, CCCD {ID_NUMBER}, khiếu nại việc thu hồi đất ở {WORD}.",
        identity_protection_requested=True,
        parties=[{"role": "complainant", "full_name": NAME, "id_number": ID_NUMBER, "phone": PHONE}],
    )
    case = await act(api, "xa.chutich", case, "accept", decision_number="1/TB", reason="Thụ lý")
    case = await act(api, "xa.chutich", case, "assign", handler_ids=[(await api.user("xa.xacminh")).id])
    for who in ("xa.xacminh", "thanhtra"):
        r = await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers(who))
        assert not _names(r.text) and r.json()["text_redacted"] is True and WORD in r.json()["content"], who
        assert case["id"] not in [c["id"] for c in await _search(api, who, "Giang Seo Phu")]
    head = (await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers("xa.chutich"))).json()
    assert head["title"] == f"Khiếu nại của {NAME}" and ID_NUMBER in head["content"]


async def test_the_dashboard_case_page_masks_the_title(browser: httpx.AsyncClient, api: Api) -> None:
    case = await _denunciation(api)
    await sign_in(browser, "thanhtra")
    page = await browser.get(f"/dashboard/cases/{case['id']}")
    assert page.status_code == 200 and MASK in page.text and not _names(page.text)


# ---- the keyed word index ----


def _name_macs() -> set[int]:
    keys = sealed_text.keys_for(SETTINGS)
    return {keys.word(w) for s in (NAME, ID_NUMBER, PHONE) for w in sealed_text.words_of(s)} | {
        keys.word(w) for w in ("0911", "888", "777")
    }


async def test_the_index_holds_no_word_of_a_protected_partys_identity(api: Api) -> None:
    case = await _denunciation(api)
    words = await api.session.scalar(sa.select(Case.text_words).where(Case.id == case["id"]))
    assert words and sealed_text.keys_for(SETTINGS).word(fold_text(WORD)) in words  # the letter's own words: kept
    assert not _name_macs() & set(words)
    # A row written in clear before revision 0021: sealed later, indexed the same way.
    await api.session.execute(
        sa.text("UPDATE cases SET title = :t, content = :c, sealed_text = NULL, text_words = NULL WHERE id = :i"),
        {"t": TITLE, "c": CONTENT, "i": case["id"]},
    )
    await api.session.commit()
    assert await sealed_text.seal_existing(api.session, SETTINGS) >= 1
    words = await api.session.scalar(sa.select(Case.text_words).where(Case.id == case["id"]))
    assert words and sealed_text.keys_for(SETTINGS).word(fold_text(WORD)) in words
    assert not _name_macs() & set(words)
    assert case["id"] not in [c["id"] for c in await _search(api, "xa.chutich", "Giang Seo Phu")]


async def test_reindex_drops_the_identity_from_indexes_built_before(api: Api) -> None:
    """A text sealed before the index left out identities: `seal-existing --reindex` rebuilds its index."""
    case = await _denunciation(api)
    keys = sealed_text.keys_for(SETTINGS)
    # Indexed as before: every word of the title and content, the denouncer's name and numbers included.
    await api.session.execute(
        sa.text("UPDATE cases SET text_words = CAST(:w AS bigint[]) WHERE id = :i"),
        {"w": keys.words(TITLE + "\n" + CONTENT), "i": case["id"]},
    )
    await api.session.commit()
    assert case["id"] in [c["id"] for c in await _search(api, "xa.xacminh", "Giang Seo Phu")]  # the attack, before
    assert await sealed_text.reindex_sealed(api.session, SETTINGS, batch=1) >= 1
    words = await api.session.scalar(sa.select(Case.text_words).where(Case.id == case["id"]))
    assert words and keys.word(fold_text(WORD)) in words and not _name_macs() & set(words)
    for who in ("xa.xacminh", "thanhtra", "xa.chutich"):
        assert case["id"] not in [c["id"] for c in await _search(api, who, "Giang Seo Phu")], who
        assert case["id"] in [c["id"] for c in await _search(api, who, WORD)], who

"""The documentation keeps up with the code: every setting is in docs/configuration.md, every docs page is linked."""

import re
from pathlib import Path

from api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_configuration_table() -> None:
    table = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    missing = sorted(f.upper() for f in Settings.model_fields if f.upper() not in named)
    assert not missing, f"settings with no row in docs/configuration.md: {missing}"


def test_the_readme_links_every_docs_page_and_every_link_resolves() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    linked = set(re.findall(r"\(docs/([a-z0-9-]+\.md)\)", readme))
    assert pages - linked == set(), f"docs pages the README does not link: {sorted(pages - linked)}"
    assert linked - pages == set(), f"README links to missing docs pages: {sorted(linked - pages)}"
    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([a-z0-9-]+\.md)\)", page.read_text(encoding="utf-8")):
            assert (ROOT / "docs" / target).exists(), f"{page.name} links to missing {target}"

"""Case search for the review desk and the command line (docs/search.md).

``search_cases(services, query, officer=..., limit=..., offset=...)`` returns a
``SearchPage`` of ``SearchResult`` rows. Modules: ``query`` (what was typed, made
safe), ``postgres`` and ``sqlite`` (the SQL of each database), ``ranking`` (the
query they share), ``snippets`` (the excerpt shown), ``service`` (the use case).
"""

from __future__ import annotations

from mailroom.search.model import SearchPage, SearchResult
from mailroom.search.service import search_cases, search_in_session

__all__ = ["SearchPage", "SearchResult", "search_cases", "search_in_session"]

"""How readers take hardness scores out of the `scores` table without mixing weights versions.

`scores` keeps one row per organisation, year and weights version (`save_scores` replaces rows of
the same version only), so a store scored under two versions holds both. A score is comparable
only with scores of the same version; a reader that ranks or filters organisations (search, the
demo's leaders) therefore reads ONE version: the one saved most recently. An old store scored
under version 1 keeps those rows until it is scored again; from then on only the new version is
shown. Kept free of heavy imports: the search service builds its SQL at import time.
"""

from __future__ import annotations

# A subquery usable wherever `scores` would be: the rows of the most recently saved weights version.
ONE_VERSION_SCORES = ("(SELECT * FROM scores WHERE weights_version = (SELECT weights_version FROM scores "
                      "ORDER BY scored_at DESC, weights_version DESC LIMIT 1))")

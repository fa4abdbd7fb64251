"""Regional ecosystems: where hard-tech firms cluster, how specialised a region is, and what it has.

Sources write places in many ways (`西安市`, `Xi'an`, `Xian`, a full street address, or only a
province), so every organisation is first resolved against the bilingual region list; what does
not resolve is reported in `unresolved()`, never silently dropped. The measures follow domain.md §6
(location quotient, Herfindahl–Hirschman index) and the ecosystem factors of §1; what counts as a
firm, how a field is assigned and how each factor is computed are data in
`hardtech/data/rules/ecosystem_factors.toml` (explained in docs/regions.md). Counting and the
ratios run as Ibis expressions over a small resolved membership table.

The package keeps its parts apart (issue 14): places are resolved in `analytics.region_places`,
`membership` builds who is where, `measures` computes the location quotients, Herfindahl index and
clusters, and `scorecards` the ecosystem factors of a region and comparisons of regions.
"""

from hardtech.analytics.region_places import LEVELS, place_key, place_resolver, resolve_place
from hardtech.analytics.regions.measures import clusters, herfindahl, location_quotients, unresolved
from hardtech.analytics.regions.membership import load_rules
from hardtech.analytics.regions.scorecards import compare, regions_table, scorecard

__all__ = ["LEVELS", "clusters", "compare", "herfindahl", "load_rules", "location_quotients", "place_key",
           "place_resolver", "regions_table", "resolve_place", "scorecard", "unresolved"]

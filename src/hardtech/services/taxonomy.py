"""The taxonomy (fields, subfields, typology) as the presentation reads it: labels, field lists, scope checks.

The rule set itself is analytics' (`analytics/taxonomy.py`, data in `data/taxonomy/`); the CLI, the
API, the dashboard and the paper reach it here, through the services like every other datum, so the
presentation never imports analytics (issue 14 item 5, tests/test_layers.py).
"""

from __future__ import annotations

from hardtech.analytics.taxonomy import FIELD_IDS, load_taxonomy  # noqa: F401 - the presentation's way in

__all__ = ["FIELD_IDS", "load_taxonomy"]

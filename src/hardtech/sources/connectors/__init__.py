"""Source connectors: readers with a declared schema for sources a mapping file cannot describe.

Each module here is one source (SEC company facts, SEC Form D, EU R&D Scoreboard, PatentsView,
OpenAlex, Crunchbase exports, IT桔子 exports). It reads the files a user downloaded (nothing is
fetched at run time) and hands normalised rows to the importer; see `base.py` for the shape of
a connector and `docs/sources.md` for each source from download to analysis.
"""

from __future__ import annotations

from hardtech.errors import UsageError
from hardtech.sources.connectors.base import REGISTRY, Connector

_MODULES = ("sec_companyfacts", "sec_formd", "eu_scoreboard", "patentsview", "openalex", "crunchbase", "itjuzi")


def _load_all() -> None:
    import importlib

    for m in _MODULES:
        importlib.import_module(f"hardtech.sources.connectors.{m}")


def connectors() -> dict[str, Connector]:
    """Every connector, by name."""
    _load_all()
    return dict(sorted(REGISTRY.items()))


def get_connector(name: str) -> Connector:
    all_ = connectors()
    if name not in all_:
        raise UsageError(f"no source connector {name!r}; connectors: {', '.join(all_)} (see `hardtech sources`)")
    return all_[name]


def is_connector(name: object) -> bool:
    return isinstance(name, str) and name in connectors()


__all__ = ["connectors", "get_connector", "is_connector", "Connector"]

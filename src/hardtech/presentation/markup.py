"""Text to safe HTML shared by the white paper and the dashboard: `backticked` commands, flags and ids as <code>.

Why: sentences in both languages name commands (`hardtech import …`) and columns (`org_id`); shown
as code they read as what they are, and the language check treats them as codes, not English.
"""

from __future__ import annotations

import re
from typing import Any

_TICKS = re.compile(r"`([^`]+)`")


def code_spans(text: Any):
    """Escape `text`, then turn each `…` span into <code>…</code>."""
    from markupsafe import Markup, escape

    return Markup(_TICKS.sub(r"<code>\1</code>", str(escape("" if text is None else text))))

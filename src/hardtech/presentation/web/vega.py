"""The Vega/Vega-Lite/vega-embed JavaScript, from `vl_convert.javascript_bundle()`: no CDN, works offline.

Building the bundle takes about a second, so it is made once per process (and can be warmed at
start-up in a background thread) and served with a long cache lifetime and an ETag.
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _bundle() -> tuple[bytes, str]:
    import vl_convert

    js = vl_convert.javascript_bundle().encode("utf-8")
    return js, hashlib.sha256(js).hexdigest()[:16]


def bundle() -> tuple[bytes, str]:
    with _lock:
        return _bundle()


def warm() -> None:
    threading.Thread(target=bundle, name="vega-bundle", daemon=True).start()

"""Finding a CJK font before a Chinese report is drawn: without one, every glyph would print as a box.

fontconfig (`fc-list :lang=zh`) is asked first, as WeasyPrint and the browsers use it; failing
that, the usual font folders are scanned for Noto/Source Han/WenQuanYi CJK files.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from hardtech.errors import HardtechError

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"),
             str(Path.home() / ".local/share/fonts"))
_NAMES = ("cjk", "sourcehan", "source han", "wqy", "wenquanyi", "notosanssc", "notoserifsc", "simsun", "simhei",
          "msyh", "pingfang")


class FontMissing(HardtechError):
    """A Chinese report was asked for and no font on this machine can draw Chinese."""


def cjk_fonts() -> list[str]:
    """Families (fontconfig) or files (scan) that can draw Chinese; empty when none."""
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=20,
                                 check=False).stdout
            fams = sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})
            if fams:
                return fams
        except (OSError, subprocess.SubprocessError):
            pass
    found = []
    for d in FONT_DIRS:
        p = Path(d)
        if p.is_dir():
            found += sorted(str(f) for f in p.rglob("*") if f.suffix.lower() in (".ttf", ".ttc", ".otf", ".otc")
                            and any(n in f.name.lower() for n in _NAMES))
    return found


def require_cjk_font() -> str:
    fonts = cjk_fonts()
    if not fonts:
        raise FontMissing("--lang zh needs a font that can draw Chinese, and none was found (fc-list :lang=zh is "
                          "empty); install one, e.g. `sudo apt-get install fonts-noto-cjk` (scripts/system-deps.sh "
                          "does), then run the report again")
    return fonts[0]

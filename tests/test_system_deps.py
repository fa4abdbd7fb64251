"""scripts/system-deps.sh judges what works, not package names, and warns only about what is still missing.

Issue 15: setup warned "could not install fonts-noto-cjk poppler-utils chromium" when all three were
installed (a font copied by hand, pdftoppm and a Chromium that dpkg does not list under those names).
Each case runs the script with a PATH of stub commands, so nothing is installed for real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "system-deps.sh"


def _stub(folder: Path, name: str, body: str) -> None:
    p = folder / name
    p.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    p.chmod(0o755)


def _run(tmp_path: Path, tools: dict[str, str]) -> subprocess.CompletedProcess:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for name in ("grep", "head", "cat", "touch", "chmod", "dirname"):
        real = shutil.which(name)
        if real is None:
            pytest.skip(f"{name} is not available")
        (bindir / name).symlink_to(real)
    for name, body in tools.items():
        _stub(bindir, name, body)
    bash = shutil.which("bash")
    env = {"PATH": str(bindir), "HOME": str(tmp_path), "LOG": str(tmp_path / "apt.log")}
    return subprocess.run([bash, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


WORKING = {
    "id": "echo 0",
    "dpkg": "exit 1",  # dpkg knows none of the packages by these names
    "fc-list": 'echo "Noto Sans CJK SC"',
    "ldconfig": 'echo "libpango-1.0.so.0 (libc6,x86-64) => /x"; echo "libpangoft2-1.0.so.0 (libc6,x86-64) => /y"',
    "pdftoppm": "exit 0",
    "chromium-browser": "exit 0",
    "java": "exit 0",
    "apt-get": 'echo "apt-get $*" >> "$LOG"; exit 100',
}


def test_no_warning_when_everything_works_under_other_package_names(tmp_path):
    res = _run(tmp_path, WORKING)
    assert res.returncode == 0
    assert "warning" not in res.stderr, res.stderr
    assert not (tmp_path / "apt.log").exists()  # nothing to install, so apt-get is not even asked


def test_a_long_library_list_with_pango_early_is_enough(tmp_path):
    # the real `ldconfig -p` lists thousands of libraries: a check that stops reading at the first match
    # left ldconfig writing into a closed pipe, and under pipefail its SIGPIPE read as "Pango missing"
    tools = dict(WORKING)
    tools["ldconfig"] = ('echo "libpango-1.0.so.0 (libc6,x86-64) => /x"; echo "libpangoft2-1.0.so.0 => /y"; i=0; '
                         'while [ $i -lt 30000 ]; do echo "libother$i.so.1 (libc6,x86-64) => /usr/lib/libother$i.so.1"; '
                         'i=$((i+1)); done')
    res = _run(tmp_path, tools)
    assert res.returncode == 0
    assert "warning" not in res.stderr, res.stderr
    assert not (tmp_path / "apt.log").exists()


def test_warns_only_about_what_is_still_missing(tmp_path):
    tools = {k: v for k, v in WORKING.items() if k not in ("pdftoppm", "chromium-browser")}
    # apt-get installs poppler-utils (pdftoppm appears) but fails on chromium
    tools["apt-get"] = ('echo "apt-get $*" >> "$LOG"; case "$*" in *poppler-utils*) '
                        'printf "#!/bin/sh\\nexit 0\\n" > "$(dirname "$0")/pdftoppm"; '
                        'chmod 755 "$(dirname "$0")/pdftoppm"; exit 0;; *chromium*) exit 100;; esac; exit 0')
    res = _run(tmp_path, tools)
    assert res.returncode == 0
    log = (tmp_path / "apt.log").read_text()
    assert "poppler-utils" in log and "chromium" in log and "fonts-noto-cjk" not in log
    warn = [line for line in res.stderr.splitlines() if "warning" in line]
    assert len(warn) == 1 and "chromium" in warn[0]
    assert "poppler-utils" not in warn[0] and "fonts-noto-cjk" not in warn[0]


@pytest.mark.skipif(os.name != "posix", reason="a POSIX shell script")
def test_without_apt_it_names_what_to_install(tmp_path):
    tools = {"id": "echo 1000", "dpkg": "exit 1"}
    res = _run(tmp_path, tools)
    assert res.returncode == 0
    assert "please install" in res.stderr and "chromium" in res.stderr and "fonts-noto-cjk" in res.stderr

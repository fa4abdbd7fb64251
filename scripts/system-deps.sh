#!/usr/bin/env bash
# Debian packages the report and the browser tests need: a CJK font (Chinese in HTML and PDF),
# Pango for WeasyPrint, poppler-utils (pdftoppm, to look at PDF pages), Chromium (Playwright tests)
# and Java 17 (the Spark engine's parity suite, tests/test_parity.py).
# Installs only what is missing; without root or apt-get it says what to install and carries on.
set -uo pipefail
pkgs=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils chromium openjdk-17-jre-headless)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || echo "warning: could not install ${missing[*]}; the PDF, Chinese fonts or browser tests may not work" >&2
elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then
  sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || echo "warning: please install ${missing[*]}" >&2
else
  echo "warning: please install ${missing[*]} (the PDF, Chinese fonts or browser tests need them)" >&2
fi
exit 0

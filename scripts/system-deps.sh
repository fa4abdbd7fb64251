#!/usr/bin/env bash
# Debian packages the report and the browser tests need: a CJK font (Chinese in HTML and PDF),
# Pango for WeasyPrint, poppler-utils (pdftoppm, to look at PDF pages), Chromium (Playwright tests)
# and Java 17 (the Spark engine's parity suite, tests/test_parity.py).
# What counts is what works, not a package name: a CJK font fontconfig knows, Pango's libraries,
# `pdftoppm` and a Chromium on the PATH (installed as `chromium`, `chromium-browser`, a snap or by hand).
# Installs only what is missing, one package at a time, and warns only about what is still missing after.
# Without root or apt-get it says what to install and carries on.
set -uo pipefail

have() {  # have PACKAGE: is what the package provides usable here?
  case "$1" in
    fonts-noto-cjk) command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null | head -n1)" ] ;;
    # grep reads the whole list (no -q): under pipefail, a grep that stops at the first match leaves
    # ldconfig writing into a closed pipe, and its SIGPIPE made the pipeline (and the check) fail
    libpango-1.0-0) ldconfig -p 2>/dev/null | grep 'libpango-1\.0\.so' >/dev/null ;;
    libpangoft2-1.0-0) ldconfig -p 2>/dev/null | grep 'libpangoft2-1\.0\.so' >/dev/null ;;
    poppler-utils) command -v pdftoppm >/dev/null 2>&1 ;;
    chromium) command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
                || command -v google-chrome >/dev/null 2>&1 ;;
    openjdk-17-jre-headless) command -v java >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac || dpkg -s "$1" >/dev/null 2>&1
}

pkgs=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils chromium openjdk-17-jre-headless)
missing=()
for p in "${pkgs[@]}"; do
  have "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; }; then
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
  echo "installing Debian packages: ${missing[*]}" >&2
  $sudo_ apt-get update -qq >/dev/null 2>&1 || true
  for p in "${missing[@]}"; do  # one at a time: one package that cannot install does not block the others
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "$p" >/dev/null 2>&1 || true
  done
  still=()
  for p in "${missing[@]}"; do
    have "$p" || still+=("$p")
  done
  [ ${#still[@]} -eq 0 ] && exit 0
  echo "warning: could not install ${still[*]}; the PDF, Chinese fonts, browser or Spark tests may not work" >&2
else
  echo "warning: please install ${missing[*]} (the PDF, Chinese fonts, browser and Spark tests need them)" >&2
fi
exit 0

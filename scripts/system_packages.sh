#!/usr/bin/env bash
# Installs the Debian packages the project's tests and services need, only those missing:
#   fonts-noto-core      Noto Sans + Noto Sans Devanagari: the certificate's fonts
#   libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz-subset0
#                        WeasyPrint's text layout and shaping (Pango + HarfBuzz), font subsetting
#   poppler-utils        pdftotext / pdffonts / pdftoppm: tests read certificates back
#   tesseract-ocr, tesseract-ocr-eng, tesseract-ocr-hin
#                        tests OCR the rasterised certificate in Hindi and English
#   zbar-tools           zbarimg: the journey test decodes the certificate's QR code
#   libfaketime          time-of-day tests run at fixed clock times
# Runs `apt-get update` once, and only when something is missing; needs root (CI is).
# Usage: scripts/system_packages.sh [--check]
set -euo pipefail

PACKAGES=(
  fonts-noto-core
  libpango-1.0-0
  libpangoft2-1.0-0
  libharfbuzz-subset0
  poppler-utils
  tesseract-ocr
  tesseract-ocr-eng
  tesseract-ocr-hin
  zbar-tools
  libfaketime
)

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "system packages missing: ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ERROR: apt-get not found; install these with your package manager: ${missing[*]}" >&2
  exit 1
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "ERROR: not root; run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt/dpkg run (a second make, the browser set-up) may hold the lock: wait for it.
apt_opts=(-o DPkg::Lock::Timeout=300)
"${SUDO[@]}" apt-get "${apt_opts[@]}" update -qq
"${SUDO[@]}" apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}"

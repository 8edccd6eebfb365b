#!/usr/bin/env bash
# Installs the Debian packages the project's tests and services need, only those missing:
#   fonts-noto-core      Noto Sans + Noto Sans Devanagari: the certificate PDF's fonts
#                        (backends/certificate_pdf.py; fpdf2 + uharfbuzz need nothing else)
#   poppler-utils        pdftotext / pdffonts / pdftoppm: tests read certificates back
#   tesseract-ocr, tesseract-ocr-eng, tesseract-ocr-hin
#                        tests OCR the rasterised certificate in Hindi and English
#   zbar-tools           zbarimg: the journey test decodes the certificate's QR code
#   libfaketime          time-of-day tests run at fixed clock times
#   nginx                tests/test_nginx.py runs deploy/nginx.conf in front of the services
#   espeak-ng, ffmpeg    voice-note tests speak Hindi and English and encode it as WhatsApp
#                        does (OGG/Opus); ffprobe checks what the stand-in ASR receives
# Runs `apt-get update` once, and only when something is missing; needs root (CI is).
# Usage: scripts/system_packages.sh [--runtime] [--check]
#   --runtime  only what the running services need (`make run`): the fonts
#   --check    install nothing; exit 1 naming what is missing
set -euo pipefail

RUNTIME=(fonts-noto-core)
TESTS=(poppler-utils tesseract-ocr tesseract-ocr-eng tesseract-ocr-hin zbar-tools libfaketime nginx espeak-ng ffmpeg)

check_only=false
PACKAGES=("${RUNTIME[@]}" "${TESTS[@]}")
for arg in "$@"; do
  case "$arg" in
    --runtime) PACKAGES=("${RUNTIME[@]}") ;;
    --check) check_only=true ;;
    *) echo "usage: $0 [--runtime] [--check]" >&2; exit 2 ;;
  esac
done

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if $check_only; then
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

"""Reading a PDF as a person's reader does: the certificate's text is compressed and
shaped, so tests read it through ``pdftotext`` (Debian's poppler-utils, installed by
scripts/system_packages.sh), never by searching the raw bytes."""

import subprocess


def pdf_text(pdf: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True, timeout=30
    )
    return result.stdout.decode()

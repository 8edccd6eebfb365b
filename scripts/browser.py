"""Make sure the browser tests' browser is installed: Debian's ``chromium`` and
``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``), and a Devanagari
font (``fonts-lohit-deva``, 190 kB) so Hindi text renders in the screenshots.

    python -m scripts.browser          # install if missing (needs root and apt-get)
    python -m scripts.browser --check  # only say whether they are there

No browser is downloaded from anywhere else: the tests drive exactly the Chromium the
distribution ships and patches. Exit status 0 when both are present afterwards,
1 with a message saying what to do otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DEVANAGARI_FONT = Path("/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf")
PACKAGES = ("chromium", "chromium-driver", "fonts-lohit-deva")


def installed() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists() and DEVANAGARI_FONT.exists()


def install() -> str | None:
    """Install with apt-get; None on success, else what went wrong."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available: install Chromium and chromedriver from your distribution"
    if os.geteuid() != 0:
        return f"not root: run `sudo apt-get install -y {' '.join(PACKAGES)}`"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
    ):
        result = subprocess.run(command, env=env, check=False)
        if result.returncode != 0:
            return f"`{' '.join(command)}` failed with exit status {result.returncode}"
    return None


def main(argv: list[str]) -> int:
    if installed():
        print(f"browser tests: {', '.join(PACKAGES)} are installed")
        return 0
    if "--check" in argv:
        print(f"browser tests: one of {', '.join(PACKAGES)} is missing", file=sys.stderr)
        return 1
    problem = install()
    if problem is None and installed():
        print(f"browser tests: installed {', '.join(PACKAGES)}")
        return 0
    print(
        f"browser tests: cannot install {', '.join(PACKAGES)}: "
        f"{problem or 'the packages did not provide ' + str(CHROMEDRIVER)}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``python -m dashboard``: run the department dashboard (settings from the environment)."""

from __future__ import annotations

import logging
import sys

from dashboard.config import ConfigError, Settings


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"dashboard: {exc}", file=sys.stderr)
        return 2
    from dashboard.app import create_app

    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

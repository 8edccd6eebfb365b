"""``python -m backends``: run the service (settings from the environment)."""

from __future__ import annotations

import logging
import sys

from backends.config import ConfigError, from_env


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = from_env()
    except ConfigError as exc:
        print(f"backends: {exc}", file=sys.stderr)
        return 2
    from backends.app import create_app

    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m whatsapp_emulator``: run the emulator (settings from the environment)."""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from pathlib import Path

from whatsapp_emulator.config import ConfigError, from_env
from whatsapp_emulator.validation import Templates


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = from_env()
        templates = Templates.load(settings.templates_file)
    except (ConfigError, ValueError, OSError) as exc:
        print(f"whatsapp_emulator: {exc}", file=sys.stderr)
        return 2
    temporary = settings.media_dir is None
    media_dir = (
        Path(tempfile.mkdtemp(prefix="whatsapp-emulator-")) if temporary else settings.media_dir
    )
    assert media_dir is not None
    from whatsapp_emulator.app import create_app

    app = create_app(settings, templates, media_dir)
    logging.getLogger("whatsapp_emulator").info(
        "WhatsApp emulator on http://%s:%s (webhooks to %s, %s templates)",
        settings.host,
        settings.port,
        settings.webhook_url,
        len(templates.items),
    )
    try:
        app.run(host=settings.host, port=settings.port, access_log=False, motd=False)
    finally:
        if temporary:
            shutil.rmtree(media_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The entry point: `flask` (through .flaskenv) and `gunicorn manage:application` load this module."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dotenv import load_dotenv

from app import create_app
from config import ConfigError

# The flask command loads .env itself; gunicorn does not. Real environment variables win.
load_dotenv(Path(__file__).with_name(".env"))

try:
    application = create_app(os.getenv("FLASK_CONFIG") or "development")
except ConfigError as error:
    # One readable line and a non-zero exit instead of a traceback.
    sys.exit(f"configuration error: {error}")

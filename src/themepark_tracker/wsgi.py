"""The WSGI entry point for mod_wsgi (`WSGIScriptAlias`) and gunicorn
(`themepark_tracker.wsgi:application`): settings come from the environment, `.env`, and
SSM in production."""

from themepark_tracker.api import create_app
from themepark_tracker.config import load_settings
from themepark_tracker.logs import configure_logging

settings = load_settings()
configure_logging(settings.log_format, settings.log_level)
application = create_app(settings)

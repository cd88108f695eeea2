"""WSGI entry point: the only module-level app."""

from app import create_app
from app.web.server_errors import problem_json_server_errors

# gunicorn's own refusals (414, 431, 400 before the app runs) as problem+json, however it was started.
problem_json_server_errors()
app = create_app()

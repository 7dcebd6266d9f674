"""The WSGI application gunicorn serves. The database lives in /tmp, so every container applies the
migrations when it starts (gunicorn --preload runs this once, before it forks its workers)."""

import json
import logging
import os

from django.core.management import call_command
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notes_site.settings")
application = get_wsgi_application()
call_command("migrate", interactive=False, verbosity=0)
logging.getLogger("notes").info(json.dumps({"event": "migrated"}))

"""A web app that hunts for the host's secrets when it starts (hunt.py), prints what its build backend
found too, then answers its probes (with all of it in every answer)."""

import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hunt import hunt

try:
    from hostile_app_marker import BUILD_LOOT
except ImportError:  # not installed by building it
    BUILD_LOOT = ""

print(f"build loot:\n{BUILD_LOOT}", flush=True)
LOOT = hunt("run") + BUILD_LOOT


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path, "loot": LOOT}).encode()
        self.send_response(200 if self.path in ("/", "/health") else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print(json.dumps({"event": "request", "line": fmt % args}), flush=True)


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server.serve_forever()

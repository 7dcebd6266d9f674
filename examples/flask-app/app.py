"""A small Flask app that k8or k8orizes in its examples: it reads its port from PORT, as most platforms
hand it out, and its session key from SECRET_KEY (which k8orize ships as a Secret, never in the image).
"""

import json
import logging
import os
import signal
import sys

from flask import Flask, jsonify

logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
log = logging.getLogger("k8or-flask-example")

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY")


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/")
def index():
    log.info(json.dumps({"event": "index"}))
    greeting = os.environ.get("GREETING", "hello")
    return jsonify(message=f"{greeting} from the k8or Flask example", sessions=bool(app.secret_key))


def main() -> None:
    # The kubelet stops a pod with SIGTERM: exit cleanly (code 0) rather than die of the signal.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = int(os.environ.get("PORT", "8080"))
    log.info(json.dumps({"event": "start", "port": port}))
    app.run(host="0.0.0.0", port=port)


if __name__ == "__main__":
    main()

"""A small Flask service that k8or k8orizes in its examples: a to-do list as a JSON API, kept in SQLite
through Flask-SQLAlchemy and served by Waitress, a production WSGI server, as a Flask app ships.

It reads its port from PORT, as most platforms hand it out, its session key from SECRET_KEY (which
k8orize ships as a Secret, never in the image) and its database from DATABASE_URL (SQLite in /tmp, an
emptyDir in the pod, by default). `python app.py` creates the tables and serves the app.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from datetime import UTC, datetime

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from waitress import serve

logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
log = logging.getLogger("k8or-flask-example")


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Todo(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    done: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(DateTime, default=lambda: datetime.now(UTC))

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "done": self.done, "created": self.created.isoformat()}


routes = Blueprint("todos", __name__)


@routes.get("/health")
def health():
    db.session.execute(text("SELECT 1"))  # ready only when the database answers
    return jsonify(status="ok")


@routes.get("/")
def index():
    log.info(json.dumps({"event": "index"}))
    greeting = os.environ.get("GREETING", "hello")
    open_todos = db.session.scalar(select(func.count()).select_from(Todo).where(Todo.done.is_(False)))
    return jsonify(
        message=f"{greeting} from the k8or Flask example",
        sessions=bool(current_app.secret_key),
        open_todos=open_todos,
    )


@routes.get("/todos")
def list_todos():
    todos = db.session.scalars(select(Todo).order_by(Todo.id)).all()
    return jsonify([todo.as_json() for todo in todos])


@routes.post("/todos")
def add_todo():
    body = request.get_json(silent=True)
    title = body.get("title") if isinstance(body, dict) else None
    if not isinstance(title, str) or not 0 < len(title.strip()) <= 200:
        return jsonify(error="send a JSON object with a title of 1 to 200 characters"), 400
    todo = Todo(title=title.strip())
    db.session.add(todo)
    db.session.commit()
    return jsonify(todo.as_json()), 201


@routes.post("/todos/<int:todo_id>/done")
def finish_todo(todo_id: int):
    todo = db.session.get(Todo, todo_id) or abort(404)
    todo.done = True
    db.session.commit()
    return jsonify(todo.as_json())


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY")
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:////tmp/todos.sqlite3")
    db.init_app(app)
    app.register_blueprint(routes)
    with app.app_context():
        db.create_all()
    return app


def main() -> None:
    # The kubelet stops a pod with SIGTERM: exit cleanly (code 0) rather than die of the signal.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = int(os.environ.get("PORT", "8080"))
    log.info(json.dumps({"event": "start", "port": port}))
    threads = int(os.environ.get("THREADS", "4"))
    # poll() rather than select(): no FD_SETSIZE (1024) ceiling on open connections.
    serve(create_app(), host="0.0.0.0", port=port, threads=threads, asyncore_use_poll=True)


if __name__ == "__main__":
    main()

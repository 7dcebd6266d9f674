"""A small FastAPI app that k8or k8orizes in its examples, served by uvicorn."""

from fastapi import FastAPI

app = FastAPI(title="k8or FastAPI example")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/")
def index() -> dict[str, str]:
    return {"message": "hello from the k8or FastAPI example"}

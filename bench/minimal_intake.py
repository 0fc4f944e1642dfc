"""The raw baseline for intake: the least a FastAPI service can do with a complaint.

One route, ``POST /api/v1/cases``: a pydantic model of the same body shape, one INSERT into a
scratch table (SQLAlchemy Core, the same database), 201 with the new id. No auth, no log, no
routing. Served with the uvicorn settings ``dispatch serve`` uses, as its own process:

    python -m bench.minimal_intake --database-url postgresql://… --port 8123
"""

from __future__ import annotations

import argparse
import uuid
from typing import Literal

import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

from events.database import make_engine

metadata = sa.MetaData()
minimal_cases = sa.Table(
    "bench_minimal_cases",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
)


class Location(BaseModel):
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    grid: str | None = Field(default=None, min_length=1, max_length=64)


class Reporter(BaseModel):
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    confidential: bool = False


class Complaint(BaseModel):
    channel: Literal["phone", "web", "app", "wechat", "open311", "patrol", "email", "other"] = (
        "phone"
    )
    nature: Literal["consult", "help", "complaint", "report", "suggestion"] = "complaint"
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    urgency: Literal["normal", "urgent", "emergency"] = "normal"
    location: Location = Field(default_factory=Location)
    reporter: Reporter = Field(default_factory=Reporter)
    answer: str | None = Field(default=None, min_length=1, max_length=4000)


def create_minimal_app(engine: sa.Engine) -> FastAPI:
    metadata.create_all(engine)
    app = FastAPI()
    insert = minimal_cases.insert()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/cases", status_code=201)
    def receive(body: Complaint) -> dict[str, str]:
        case_id = uuid.uuid4().hex
        with engine.begin() as conn:
            conn.execute(
                insert, {"id": case_id, "category": body.category, "body": body.model_dump()}
            )
        return {"id": case_id}

    return app


def serve(app: FastAPI, *, host: str, port: int) -> None:
    """uvicorn as ``dispatch.ops.http_server.run_uvicorn`` configures it (not imported: that
    module imports the whole service, whose memory the baseline should not carry)."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    uvicorn.Server(config).run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url)
    try:
        serve(create_minimal_app(engine), host=args.host, port=args.port)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()

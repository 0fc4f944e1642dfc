"""The GeoReport v2 resources, each in ``.json`` and ``.xml`` (DESIGN.md §4).

Routes turn the request into a query or a ``Complaint`` and render the answer; the rules
live in ``mapping`` (what a service or a request looks like), ``params`` (GET filters) and
``intake`` (POST). Query parameters are read by hand, never declared, so a malformed one is
the spec's 400 rather than FastAPI's 422.

The GETs need no key, so they never catch a projection up (``Container.fresh``): that is a
write transaction and, while another runner holds the projection, a wait of up to two
seconds, which strangers could otherwise trigger at will. They read what the scheduler has
folded, at most a moment behind; a request just filed may answer 404 for that moment, which
is why GeoReport's ``tokens`` resource exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dispatch.auth.apikeys import check_api_key
from dispatch.bootstrap import Container
from dispatch.catalogue import Catalogue
from dispatch.catalogue.versions import list_versions
from dispatch.domain.commands import AddAttachment
from dispatch.handlers import ApplicationError, Issuer, SystemActor, new_case_id
from dispatch.handlers.text import has_control_characters
from dispatch.handlers.uploads import Upload, store_upload
from dispatch.media import MediaRefused, upload_limit_bytes
from dispatch.open311.errors import Open311Error
from dispatch.open311.formats import Document, Format, parse_format, render
from dispatch.open311.intake import complaint_from_form
from dispatch.open311.mapping import SPECIFICATION, service, service_definition, service_request
from dispatch.open311.params import request_filter
from dispatch.open311.queries import case_no_for_token, find_request, find_requests

router = APIRouter()

ROLE = "open311"
USERNAME_MAX = 64
IDEMPOTENCY_KEY_MAX = 128
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_FIELDS = 200
MEDIA_FIELD = "media"
# The body limit lets a POST of a request carry one upload (plus the multipart framing).
MEDIA_UPLOAD_PATH = r"/open311/v2/requests\.(json|xml)"


def container_of(request: Request) -> Container:
    return request.app.state.container


def format_from(text: str) -> Format:
    fmt = parse_format(text)
    if fmt is None:
        raise Open311Error(404, f"unknown format {text!r}: end the resource in .json or .xml")
    return fmt


def catalogue_of(container: Container) -> Catalogue | None:
    active = container.catalogue_source()
    return None if active is None else active[1]


def zone_of(catalogue: Catalogue | None) -> ZoneInfo:
    return catalogue.zone if catalogue is not None else DEFAULT_ZONE


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request) -> Response:
    """Service discovery: where this endpoint is, which formats it speaks."""
    fmt_ = format_from(fmt)
    container = container_of(request)
    versions = list_versions(container.engine)
    changed = versions[0].loaded_at if versions else container.clock()
    changeset = changed.astimezone(UTC).isoformat(timespec="seconds")
    base = str(request.url.replace(query="")).rsplit("/", 1)[0]
    payload = {
        "changeset": changeset,
        "contact": "12345 市民服务热线 — 接诉即办",
        "key_service": "API keys are issued by the centre's administrators (dispatch apikeys add)",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": changeset,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return render(fmt_, Document.DISCOVERY, payload)


@router.get("/services.{fmt}")
def services(fmt: str, request: Request) -> Response:
    """GET Service List: every category of the active catalogue is a service."""
    fmt_ = format_from(fmt)
    catalogue = catalogue_of(container_of(request))
    listed = [] if catalogue is None else [service(c, catalogue) for c in catalogue.categories]
    return render(fmt_, Document.SERVICES, listed)


@router.get("/services/{code}.{fmt}")
def service_definition_of(code: str, fmt: str, request: Request) -> Response:
    """GET Service Definition: the extra questions (attributes) a category asks."""
    fmt_ = format_from(fmt)
    catalogue = catalogue_of(container_of(request))
    category = None if catalogue is None else catalogue.category(code)
    if category is None:
        raise Open311Error(404, f"no service with service_code {code!r}: see services.{fmt_}")
    return render(fmt_, Document.SERVICE_DEFINITION, service_definition(category))


@router.post("/requests.{fmt}")
async def post_request(fmt: str, request: Request) -> Response:
    """POST Service Request (form-encoded, ``api_key`` required): files a case, channel
    ``open311``; answers ``[{service_request_id, token, service_notice, account_id}]``.

    A key in the query string is checked before the body is read; one in the body is checked
    before any field is. The body is at most 1 MiB plus the upload limit (``BodyLimit``).
    A picture comes as a ``media_url`` link, or as one multipart file named ``media`` (as
    several GeoReport servers take it): judged like any upload and recorded with the case in
    one append, so a refused file is a 4xx and no case.
    """
    fmt_ = format_from(fmt)
    container = container_of(request)
    query_key = request.query_params.get("api_key")
    if query_key:
        await run_in_threadpool(_client, container, query_key)
    form = await _form(request)
    if form is None:  # not a form: no key can be in it
        if not query_key:
            raise Open311Error(403, "api_key is required: send the request as a form with it")
        raise Open311Error(
            400, "the body must be application/x-www-form-urlencoded or multipart/form-data"
        )
    fields, media = form
    key = request.headers.get("Idempotency-Key")
    language = request.headers.get("Accept-Language", "en")
    answer = await run_in_threadpool(
        submit, container, fields, query_key, key, media=media, language=language
    )
    return render(fmt_, Document.SERVICE_REQUESTS, answer, status=201)


async def _form(request: Request) -> tuple[dict[str, list[str]], Upload | None] | None:
    """The form's text fields (every value, in order) and its ``media`` file; ``None`` when
    the body is no form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in FORM_TYPES:
        return None
    try:
        form = await request.form(max_files=1, max_fields=MAX_FIELDS)
    except StarletteHTTPException as error:
        if "files" in str(error.detail):
            raise Open311Error(400, "one file at most, named media") from None
        raise Open311Error(400, f"the form could not be read: {error.detail}") from None
    except Exception:  # a malformed body of any kind is the client's 400
        raise Open311Error(400, "the form could not be read") from None
    fields: dict[str, list[str]] = {}
    media: Upload | None = None
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
        elif name != MEDIA_FIELD:
            raise Open311Error(400, f"a file may only come as media, not as {name}")
        else:
            limit = upload_limit_bytes(container_of(request).settings)
            media = Upload(await value.read(limit + 1), value.filename, value.content_type)
    return fields, media


def submit(
    container: Container,
    form: Mapping[str, Sequence[str]],
    query_key: str | None,
    idempotency_key: str | None,
    *,
    media: Upload | None = None,
    language: str = "en",
) -> list[dict[str, object]]:
    client = _client(container, (form.get("api_key") or [query_key or ""])[-1])
    catalogue = catalogue_of(container)
    if catalogue is None:
        raise Open311Error(400, "the centre has not loaded a catalogue yet: no service is open")
    complaint = complaint_from_form(form, catalogue)
    if idempotency_key is not None and (
        not 1 <= len(idempotency_key) <= IDEMPOTENCY_KEY_MAX
        or has_control_characters(idempotency_key)
    ):
        raise Open311Error(400, f"Idempotency-Key: 1 to {IDEMPOTENCY_KEY_MAX} plain characters")
    actor = SystemActor(username=f"open311:{client}"[:USERNAME_MAX], roles=frozenset({ROLE}))
    if media is not None:
        photo = _stored_media(container, media, by=actor.username, language=language)
        complaint = replace(complaint, attachments=(photo,))
    try:
        issuer = Issuer(actor=actor, role=ROLE, command_id=idempotency_key)
        result = container.handle(new_case_id(), complaint, issuer)
    except ApplicationError as error:
        raise Open311Error(400, str(error)) from None
    container.after_command(result)
    case_no = result.state.case_no
    account = (form.get("account_id") or [""])[-1].strip()[:64] or None
    return [
        {
            "service_request_id": case_no,
            "token": result.case_id,
            "service_notice": f"已受理，工单编号 {case_no}。承办部门将按规定时限与您联系并答复。",
            "account_id": account,
        }
    ]


def _stored_media(container: Container, media: Upload, *, by: str, language: str) -> AddAttachment:
    try:
        stored = store_upload(
            container.media_store,
            media,
            max_bytes=upload_limit_bytes(container.settings),
            stage="intake",
            by=by,
        )
    except MediaRefused as refused:
        raise Open311Error(400, f"media: {refused.message(language)}") from None
    return stored.command


def _client(container: Container, key: str) -> str:
    key = key.strip()
    if not key:
        raise Open311Error(403, "api_key is required: ask the centre for one")
    with container.store.reading() as conn:
        client = check_api_key(conn, key[:200])
    if client is None:
        raise Open311Error(403, "api_key is not valid: it is unknown or has been revoked")
    return client


@router.get("/requests.{fmt}")
def get_requests(fmt: str, request: Request) -> Response:
    """GET Service Requests: ``service_request_id`` (comma list; overrides the rest),
    ``service_code``, ``start_date``, ``end_date``, ``status``; the last 90 days and at most
    500 by default; ``page`` and ``page_size``; the total is in ``X-Total-Count``."""
    fmt_ = format_from(fmt)
    container = container_of(request)
    catalogue = catalogue_of(container)
    wanted = request_filter(request.query_params, now=container.clock(), zone=zone_of(catalogue))
    with container.store.reading() as conn:
        found, total = find_requests(conn, wanted)
    listed = [service_request(item.row, item.reply_by, catalogue) for item in found]
    response = render(fmt_, Document.SERVICE_REQUESTS, listed)
    response.headers["X-Total-Count"] = str(total)
    return response


@router.get("/requests/{request_id}.{fmt}")
def get_request(request_id: str, fmt: str, request: Request) -> Response:
    """GET Service Request: one case by its number (工单编号)."""
    fmt_ = format_from(fmt)
    container = container_of(request)
    with container.store.reading() as conn:
        found = find_request(conn, request_id)
    if found is None:
        raise Open311Error(404, f"no service request with service_request_id {request_id!r}")
    payload = [service_request(found.row, found.reply_by, catalogue_of(container))]
    return render(fmt_, Document.SERVICE_REQUESTS, payload)


@router.get("/tokens/{token}.{fmt}")
def get_token(token: str, fmt: str, request: Request) -> Response:
    """GET request id from a token: the token POST answered with."""
    fmt_ = format_from(fmt)
    with container_of(request).store.reading() as conn:
        case_no = case_no_for_token(conn, token)
    if case_no is None:
        raise Open311Error(404, f"no service request for token {token!r} (yet)")
    payload = [{"service_request_id": case_no, "token": token}]
    return render(fmt_, Document.SERVICE_REQUESTS, payload)

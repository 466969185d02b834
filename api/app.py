"""The API's endpoints (docs/api.md). Each one reads its input, calls the job service,
the import code or the store, and answers JSON; a bad request gets a 4xx with
`{"error": ...}` and changes nothing.

Blocking work (the store, reading a contact file) runs in the server's thread pool.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from common import runfiles
from common.errors import UserError
from jobs import importing, overview
from jobs.service import JobError, JobService
from store import Store, StoreError
from store.records import jsonable
from store.states import MESSAGE_STATES

from . import docs_page, errors, metrics, uploads
from .errors import ApiError
from .limits import BodyLimit
from .token import matches

MAX_ID = 2**63 - 1
JobId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="a job id")]
MessageId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="a message id")]
CONTACTS_MAX = 200 * 1024 * 1024  # contacts.readers.MAX_FILE_BYTES
VERSION = "1"


class SendJson(BaseModel):
    """POST /send as JSON: the contacts as a list of objects."""

    model_config = ConfigDict(extra="forbid")
    contacts: list[dict[str, Any]] = Field(
        min_length=1, description='objects such as {"phone": "+14155550100", "name": "Ann"}'
    )
    template: str = Field(description="message text: {column} placeholders and {Hi|Hello} spintax")
    name: str | None = Field(None, description="job name (default: api-DATE)")
    phone_column: str | None = None
    region: str | None = Field(None, description="region of numbers without a country code, e.g. IN")
    start_at: str | None = Field(None, description="not before this local time, e.g. 2026-12-01T09:00")
    window: str | None = Field(
        None, description="each contact's local hours, e.g. 09:00-20:00 (default: any time; no overnight window)"
    )
    timezone: str | None = Field(
        None, description="the job's IANA zone for numbers without one, e.g. America/Sao_Paulo (default: the server's)"
    )
    accounts: list[str] = Field(default_factory=list, description="only these accounts may send it (default: any)")
    dry_run: bool = False


class Review(BaseModel):
    """POST /messages/{id}/review: a person's decision on a message in doubt."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["sent", "resend"] = Field(
        description="sent: it is in the chat (mark it sent); resend: it is not (send it again)"
    )


class App:
    """What the endpoints share: the config, one store (a connection per thread), the token."""

    def __init__(self, cfg: Any, token: str, store: Store | None = None) -> None:
        self.cfg = cfg
        self.token = token
        self.store = store or Store(cfg.paths.database)
        self.service = JobService(self.store)
        self.metrics_cache: tuple[float, str] | None = None

    def job_doc(self, job_id: int) -> dict[str, Any]:
        job = self.service.job(job_id)
        return {**job.to_dict(), "reply_rate": job.reply_rate, "eta_seconds": self.service.eta(job)}


BEARER = HTTPBearer(auto_error=False, description="the token in [api] token_file")


def auth(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
    """Every endpoint but /health and the docs: `Authorization: Bearer TOKEN`, compared in constant time."""
    token = request.app.state.api.token
    if creds is None or creds.scheme.lower() != "bearer" or not matches(creds.credentials, token):
        raise ApiError(
            401,
            "missing or wrong token: send the header Authorization: Bearer TOKEN ([api] token_file holds it)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def _job_error(exc: JobError) -> ApiError:
    text = str(exc).replace(" (see `python tui.py jobs`)", " (see GET /jobs)")
    return ApiError(404 if text.startswith("no job") or text.startswith("no message") else 409, text)


def create_app(cfg: Any, *, token: str, store: Store | None = None) -> FastAPI:
    """The FastAPI application over one run context: every endpoint of docs/api.md, the
    token check as a dependency, the error handlers; each action calls the job service."""
    state = App(cfg, token, store)
    app = FastAPI(
        title="WhatsApp bulk sender",
        version=VERSION,
        description="Create and steer sending jobs; read messages, replies and accounts. "
        "Every endpoint but /health, /docs and /openapi.json needs `Authorization: Bearer TOKEN`.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = state
    errors.install(app)
    guarded = [Depends(auth)]

    # ------------------------------------------------------------------ open
    @app.get("/health", tags=["service"], summary="Is the API up and its database usable (no token)")
    def health() -> JSONResponse:
        try:
            state.store.get_doc("schema_version")
        except Exception as exc:
            return JSONResponse({"status": "error", "error": str(exc)[:200]}, status_code=503)
        return JSONResponse({"status": "ok", "time": time.time()})

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_page.render(app.openapi()))

    # ------------------------------------------------------------------ jobs
    @app.get("/jobs", tags=["jobs"], dependencies=guarded, summary="Every job with its counts, newest first")
    def list_jobs() -> Any:
        return {"jobs": [jsonable(j) for j in state.store.jobs()]}

    @app.get("/status/{job}", tags=["jobs"], dependencies=guarded, summary="One job: status, counts, replies, ETA")
    def status(job: JobId) -> Any:
        try:
            return state.job_doc(job)
        except JobError as exc:
            raise _job_error(exc) from None

    def _change(job: int, verb: str) -> Any:
        try:
            change = getattr(state.service, verb)(job)
        except JobError as exc:
            raise _job_error(exc) from None
        return {"job_id": change.job_id, "old": change.old, "new": change.new, "text": change.text}

    @app.post("/pause/{job}", tags=["jobs"], dependencies=guarded, summary="Pause a job")
    def pause(job: JobId) -> Any:
        return _change(job, "pause")

    @app.post("/resume/{job}", tags=["jobs"], dependencies=guarded, summary="Resume a paused job")
    def resume(job: JobId) -> Any:
        return _change(job, "resume")

    @app.post("/stop/{job}", tags=["jobs"], dependencies=guarded, summary="Stop a job for good")
    def stop(job: JobId) -> Any:
        return _change(job, "stop")

    @app.get("/jobs/{job}/messages", tags=["jobs"], dependencies=guarded, summary="A job's messages, a page at a time")
    def messages(
        job: JobId,
        status: Annotated[str | None, Query(description=f"only this status: {', '.join(MESSAGE_STATES)}")] = None,
        after: Annotated[int, Query(ge=0, le=MAX_ID, description="ids after this one (the previous next_after)")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Any:
        if status is not None and status not in MESSAGE_STATES:
            raise ApiError(422, f"status: unknown message status {status!r} (known: {', '.join(MESSAGE_STATES)})")
        try:
            state.service.job(job)
        except JobError as exc:
            raise _job_error(exc) from None
        rows = state.store.page_messages(job, after_id=after, limit=limit, status=status)
        return {
            "messages": [jsonable(r) for r in rows],
            "next_after": rows[-1].id if len(rows) == limit else None,
        }

    @app.post(
        "/messages/{message}/review",
        tags=["jobs"],
        dependencies=guarded,
        summary="Decide on a message in doubt (unknown): it was sent, or send it again",
    )
    def review(message: MessageId, body: Review) -> Any:
        if state.store.message(message) is None:
            raise ApiError(404, f"no message {message}")
        try:
            if body.decision == "sent":
                state.service.review(mark_sent=[message])
            else:
                state.service.review(resend=[message])
        except JobError as exc:
            raise ApiError(409, str(exc)) from None
        row = state.store.message(message)
        return {"message_id": message, "decision": body.decision, "status": str(row.status) if row else None}

    # ------------------------------------------------------------------ creating jobs
    @app.post(
        "/send",
        tags=["jobs"],
        dependencies=guarded,
        status_code=201,
        summary="Create a job from contacts (a file or a JSON list), a template and options",
        openapi_extra=docs_page.SEND_BODY,
    )
    async def send(request: Request) -> Any:
        form = await _read_request(request, state.cfg)
        return await run_in_threadpool(_send, state, form)

    @app.post(
        "/upload",
        tags=["jobs"],
        dependencies=guarded,
        summary="Check a contact file: the import plan the dashboard's wizard shows (nothing is created)",
        openapi_extra=docs_page.UPLOAD_BODY,
    )
    async def upload(request: Request) -> Any:
        form = await _read_request(request, state.cfg, json_allowed=False)
        return await run_in_threadpool(_plan_only, state, form)

    # ------------------------------------------------------------------ reading
    @app.get("/replies", tags=["replies"], dependencies=guarded, summary="What contacts answered, a page at a time")
    def replies(
        job: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
        after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Any:
        if job is not None:
            try:
                state.service.job(job)
            except JobError as exc:
                raise _job_error(exc) from None
        rows = state.store.reply_page(after_id=after, limit=limit, job_id=job)
        return {"replies": [jsonable(r) for r in rows], "next_after": rows[-1].id if len(rows) == limit else None}

    @app.get("/accounts", tags=["accounts"], dependencies=guarded, summary="Each account: login, worker, sent today")
    def accounts() -> Any:
        sup = _supervisor(state)
        rows = overview.account_rows(state.cfg, state.store, sup)
        return {"accounts": [r.to_dict() for r in rows], "supervisor": (sup or {}).get("state", "stopped")}

    @app.get(
        "/metrics",
        tags=["service"],
        dependencies=guarded,
        response_class=PlainTextResponse,
        summary="Prometheus text: messages per account and status, queue depth, worker states, webhooks",
    )
    def prometheus() -> PlainTextResponse:
        now = time.monotonic()
        cached = state.metrics_cache
        if cached is None or now - cached[0] > metrics.CACHE_SECONDS:
            cached = (now, metrics.render(state.store, _supervisor(state)))
            state.metrics_cache = cached
        return PlainTextResponse(cached[1], media_type="text/plain; version=0.0.4")

    app.add_middleware(BodyLimit, max_bytes=cfg.api.max_upload_mb * 1024 * 1024)
    return app


def _supervisor(state: App) -> dict[str, Any] | None:
    """This host's supervisor as it last published itself (alive: within 10 s)."""
    doc = state.store.get_doc(runfiles.supervisor_doc())
    if not isinstance(doc, dict):
        return None
    fresh = time.time() - float(doc.get("updated_at") or 0) < 10 and doc.get("state") != "stopped"
    return dict(doc, alive=fresh)


# ---------------------------------------------------------------------- requests with contacts
class Form:
    """The fields of a /send or /upload request, whatever its content type."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.accounts: list[str] = []
        self.contacts_file: Any = None
        self.contacts_json: Any = None
        self.attachment: Any = None

    def text(self, name: str) -> str | None:
        value = self.fields.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ApiError(422, f"{name}: must be text")
        return value

    def flag(self, name: str) -> bool:
        value = self.fields.get(name)
        if isinstance(value, bool) or value is None:
            return bool(value)
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off", ""):
            return False
        raise ApiError(422, f"{name}: must be true or false, not {str(value)[:20]!r}")


async def _read_request(request: Request, cfg: Any, *, json_allowed: bool = True) -> Form:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    form = Form()
    if ctype == "application/json" and json_allowed:
        raw = await request.body()
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"malformed JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ApiError(422, "the body must be a JSON object with contacts and template")
        from pydantic import ValidationError

        try:
            body = SendJson.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            raise ApiError(422, f"{where}: {first.get('msg')}") from None
        form.fields = body.model_dump(exclude={"contacts", "accounts"})
        form.accounts = body.accounts
        form.contacts_json = body.contacts
        return form
    if ctype != "multipart/form-data":
        wanted = "multipart/form-data" + (" or application/json" if json_allowed else "")
        raise ApiError(415, f"content type {ctype or 'none'!r} not accepted: send {wanted}")
    limit = cfg.api.max_upload_mb * 1024 * 1024
    parsed = await request.form(max_files=2, max_fields=64, max_part_size=limit)
    for key, value in parsed.multi_items():
        if key == "file":
            if isinstance(value, str):
                raise ApiError(422, "file: must be a file part (curl -F file=@contacts.csv)")
            form.contacts_file = value
        elif key == "attachment":
            if isinstance(value, str):
                raise ApiError(422, "attachment: must be a file part (curl -F attachment=@offer.pdf)")
            form.attachment = value
        elif key == "contacts":
            try:
                form.contacts_json = json.loads(value if isinstance(value, str) else await value.read())
            except ValueError as exc:
                raise ApiError(400, f"contacts: malformed JSON: {exc}") from None
        elif key in ("account", "accounts"):
            form.accounts.extend(a.strip() for a in str(value).split(",") if a.strip())
        elif key in ("template", "name", "phone_column", "region", "start_at", "window", "timezone", "dry_run"):
            if not isinstance(value, str):
                raise ApiError(422, f"{key}: must be a text field, not a file")
            form.fields[key] = value
        else:
            raise ApiError(
                422,
                f"unknown field {key!r} (known: file or contacts, template, name, phone_column, region, start_at, "
                "window, timezone, account, attachment, dry_run)",
            )
    return form


def _options(state: App, form: Form, template_required: bool = True) -> dict[str, Any]:
    """The import options, checked as the CLI checks them (jobs.importing)."""
    template = form.text("template")
    if template is None:
        if template_required:
            raise ApiError(422, "template: required (the message text, with {column} placeholders)")
    else:
        template = importing.check_template(template, "template")
    name = form.text("name")
    region = form.text("region") or state.cfg.sending.default_region
    from contacts import ContactsError
    from contacts.phones import check_region

    try:
        region = check_region(region) or ""
    except ContactsError:
        raise ApiError(422, f"region: unknown region {region[:20]!r} (a two-letter code such as US, IN, GB)") from None
    known = state.cfg.account_names()
    for a in form.accounts:
        if a not in known:
            raise ApiError(422, f"accounts: no account {a[:40]!r} (accounts: {', '.join(known)})")
    accounts = list(dict.fromkeys(form.accounts))
    return {
        "template": template,
        "name": importing.check_name(name, "name") if name is not None else None,
        "start_at": importing.parse_start(form.text("start_at"), "start_at"),
        "window": importing.parse_window(form.text("window"), "window"),
        "timezone": importing.check_timezone(form.text("timezone"), "timezone"),
        "phone_column": form.text("phone_column") or None,
        "region": region,
        "accounts": accounts,
        "dry_run": form.flag("dry_run"),
    }


def _plan(state: App, form: Form, root: Path, template: str, opts: dict[str, Any]) -> Any:
    from contacts import plan_import

    if form.contacts_file is not None and form.contacts_json is not None:
        raise ApiError(422, "send either a contact file (file) or a JSON list (contacts), not both")
    if form.contacts_file is not None:
        path = uploads.contacts_file(form.contacts_file, root, max_bytes=CONTACTS_MAX)
    elif form.contacts_json is not None:
        path = uploads.contacts_from_json(form.contacts_json, root)
    else:
        raise ApiError(422, "no contacts: send a contact file (field file) or a JSON list (contacts)")
    return plan_import(
        path, template, region=opts["region"], optouts=state.store.optout_set(), phone_column=opts["phone_column"]
    ), path


@contextmanager
def _user_errors(root: Path) -> Iterator[None]:
    """Errors of the contact reader, the template and the options: 422 naming the file by its name."""
    try:
        yield
    except ApiError:
        raise
    except StoreError as exc:
        raise ApiError(503, str(exc)) from None
    except Exception as exc:
        if isinstance(exc, UserError) or getattr(type(exc), "user_error", False):
            raise ApiError(422, uploads.hide(str(exc), root)) from None
        raise


def _plan_doc(plan: Any, path: Path, root: Path, *, preview: bool) -> dict[str, Any]:
    doc: dict[str, Any] = plan.to_dict(messages=False)
    doc["file"] = path.name
    for kind in ("invalid", "duplicates", "opted_out", "blank"):
        doc[kind] = doc[kind][:1000]
    if preview:
        doc["preview"] = [{k: m[k] for k in ("phone", "name", "text", "row")} for m in plan.messages[:5]]
    else:
        doc.pop("template", None)
    return doc


def _plan_only(state: App, form: Form) -> Any:
    try:
        with uploads.workspace() as root, _user_errors(root):
            opts = _options(state, form, template_required=False)
            plan, path = _plan(state, form, root, opts["template"] or "{phone}", opts)
            return _plan_doc(plan, path, root, preview=opts["template"] is not None)
    finally:
        _close(form)


def _send(state: App, form: Form) -> Any:
    attachment: Path | None = None
    try:
        with uploads.workspace() as root, _user_errors(root):
            opts = _options(state, form)
            plan, path = _plan(state, form, root, opts["template"], opts)
            name = opts["name"] or (
                importing.default_name(path) if form.contacts_file is not None else time.strftime("api %Y-%m-%d %H:%M")
            )
            doc = _plan_doc(plan, path, root, preview=True)
            hours = importing.local_hours(plan, opts["window"], opts["timezone"])
            doc.update(name=name, accounts=opts["accounts"] or "any", dry_run=opts["dry_run"], job_id=None)
            doc["local_hours"] = hours.to_dict()
            if opts["dry_run"]:
                return JSONResponse(doc, status_code=200)
            if not plan.messages:
                raise ApiError(422, f"{path.name}: no row has a valid number; nothing to send")
            if form.attachment is not None:
                attachment = uploads.keep_attachment(
                    form.attachment, state.cfg.api.upload_dir, max_bytes=importing.MAX_ATTACHMENT_BYTES
                )
            job_id = importing.create_job_from_plan(
                state.store,
                plan,
                name=name,
                template=opts["template"],
                attachment=attachment,
                start_at=opts["start_at"],
                source_file=f"api:{path.name}",
                accounts=opts["accounts"],
                hours=hours,
            )
            doc["job_id"] = job_id
            doc["status"] = str(state.service.job(job_id).status)
            attachment = None  # the job has it now
            return JSONResponse(doc, status_code=201)
    finally:
        uploads.drop_attachment(attachment)
        _close(form)


def _close(form: Form) -> None:
    """The uploaded parts' temporary files."""
    for part in (form.contacts_file, form.attachment):
        if part is not None:
            try:
                part.file.close()
            except Exception:
                pass

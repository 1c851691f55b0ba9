"""TAXII 2.1 routes under ``/taxii2/`` (the logic is in ``sharing.taxii``).

Every route needs a bearer token (401 without one) and answers
``application/taxii+json;version=2.1``; an ``Accept`` that admits neither that nor
``application/taxii+json`` is a 406, a POST body of another type a 415. Errors on these
paths are TAXII error messages, not problem+json (``install`` rewrites them). Read
routes need the token scope ``sharing:read``, writes ``sharing:write`` (403 without);
a collection the caller's organisation may not see is a 404.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from takedown.accounts.deps import CurrentPrincipal, DbSession, needs
from takedown.kit.errors import TakedownError
from takedown.sharing import taxii

router = APIRouter(prefix="/taxii2", tags=["taxii"])

Root = Annotated[str, Path(max_length=64)]
CollectionId = Annotated[str, Path(max_length=64)]
ObjectId = Annotated[str, Path(max_length=200)]
StatusId = Annotated[str, Path(max_length=64)]


class NotAcceptable(TakedownError):
    status = 406
    title = "Not acceptable"
    type_slug = "not-acceptable"


class UnsupportedMediaType(TakedownError):
    status = 415
    title = "Unsupported media type"
    type_slug = "unsupported-media-type"


def _admits_taxii(accept: str) -> bool:
    if not accept.strip():
        return True
    for part in accept.split(","):
        media, *params = [p.strip().lower() for p in part.split(";")]
        if media in ("*/*", "application/*"):
            return True
        if media == "application/taxii+json":
            version = [p for p in params if p.startswith("version=")]
            if not version or version[0] == "version=2.1":
                return True
    return False


def taxii_accept(request: Request) -> None:
    if not _admits_taxii(request.headers.get("accept", "")):
        raise NotAcceptable(f"this server answers {taxii.MEDIA_TAXII}")


Accept = Annotated[None, Depends(taxii_accept)]


def _json(body: Any, headers: dict[str, str] | None = None, status: int = 200) -> Response:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return Response(text, status_code=status, media_type=taxii.MEDIA_TAXII, headers=headers)


def _params(request: Request) -> taxii.Params:
    q: dict[str, list[str]] = {}
    for k, v in request.query_params.multi_items():
        q.setdefault(k, []).append(v)
    return taxii.parse_params(q)


@router.get("/", dependencies=[needs("sharing:read")])
def discovery(request: Request, principal: CurrentPrincipal, _a: Accept) -> Response:
    """The server's discovery resource: its one API root."""
    return _json(taxii.discovery(str(request.base_url)))


@router.get("/{api_root}/", dependencies=[needs("sharing:read")])
def api_root(api_root: Root, principal: CurrentPrincipal, _a: Accept) -> Response:
    return _json(taxii.api_root(api_root))


@router.get("/{api_root}/collections/", dependencies=[needs("sharing:read")])
def collections(
    api_root: Root, principal: CurrentPrincipal, session: DbSession, _a: Accept
) -> Response:
    """The collections your organisation may read or write."""
    return _json(taxii.list_collections(session, principal, api_root))


@router.get("/{api_root}/collections/{collection_id}/", dependencies=[needs("sharing:read")])
def collection(
    api_root: Root,
    collection_id: CollectionId,
    principal: CurrentPrincipal,
    session: DbSession,
    _a: Accept,
) -> Response:
    return _json(taxii.get_collection(session, principal, api_root, collection_id))


@router.get(
    "/{api_root}/collections/{collection_id}/objects/", dependencies=[needs("sharing:read")]
)
def get_objects(
    request: Request,
    api_root: Root,
    collection_id: CollectionId,
    principal: CurrentPrincipal,
    session: DbSession,
    _a: Accept,
) -> Response:
    """Objects, paged by ``limit`` and ``next``; filters ``added_after`` and
    ``match[id|type|version|spec_version]``."""
    page = taxii.get_objects(session, principal, api_root, collection_id, _params(request))
    return _json(taxii.envelope_text(page), page.headers)


@router.post(
    "/{api_root}/collections/{collection_id}/objects/",
    status_code=202,
    dependencies=[needs("sharing:write")],
)
async def add_objects(
    request: Request,
    api_root: Root,
    collection_id: CollectionId,
    principal: CurrentPrincipal,
    session: DbSession,
    _a: Accept,
) -> Response:
    """Add an envelope of objects; answers a status resource (202)."""
    await run_in_threadpool(taxii.writable, session, principal, api_root, collection_id)
    ctype = request.headers.get("content-type", "").replace(" ", "").lower()
    if not ctype.startswith("application/taxii+json"):
        raise UnsupportedMediaType(f"send the envelope as {taxii.MEDIA_TAXII}")
    size = int(request.headers.get("content-length") or 0)
    if size > taxii.MAX_CONTENT_LENGTH:
        raise taxii.BadRequest(f"at most {taxii.MAX_CONTENT_LENGTH} bytes per request")
    raw = await request.body()
    try:
        body = json.loads(raw)
    except ValueError:
        raise taxii.BadRequest("the body is not JSON") from None
    status = await run_in_threadpool(
        taxii.add_objects, session, principal, api_root, collection_id, body
    )
    return _json(status, status=202)


@router.get(
    "/{api_root}/collections/{collection_id}/manifest/", dependencies=[needs("sharing:read")]
)
def get_manifest(
    request: Request,
    api_root: Root,
    collection_id: CollectionId,
    principal: CurrentPrincipal,
    session: DbSession,
    _a: Accept,
) -> Response:
    body, page = taxii.manifest(session, principal, api_root, collection_id, _params(request))
    return _json(body, page.headers)


@router.get(
    "/{api_root}/collections/{collection_id}/objects/{object_id}/",
    dependencies=[needs("sharing:read")],
)
def get_object(
    request: Request,
    api_root: Root,
    collection_id: CollectionId,
    object_id: ObjectId,
    principal: CurrentPrincipal,
    session: DbSession,
    _a: Accept,
) -> Response:
    page = taxii.get_object(
        session, principal, api_root, collection_id, object_id, _params(request)
    )
    return _json(taxii.envelope_text(page), page.headers)


@router.delete(
    "/{api_root}/collections/{collection_id}/objects/{object_id}/",
    dependencies=[needs("sharing:write")],
)
def delete_object(
    request: Request,
    api_root: Root,
    collection_id: CollectionId,
    object_id: ObjectId,
    principal: CurrentPrincipal,
    session: DbSession,
    _a: Accept,
) -> Response:
    taxii.delete_object(session, principal, api_root, collection_id, object_id, _params(request))
    return _json({})


@router.get(
    "/{api_root}/collections/{collection_id}/objects/{object_id}/versions/",
    dependencies=[needs("sharing:read")],
)
def get_versions(
    request: Request,
    api_root: Root,
    collection_id: CollectionId,
    object_id: ObjectId,
    principal: CurrentPrincipal,
    session: DbSession,
    _a: Accept,
) -> Response:
    body, page = taxii.versions(
        session, principal, api_root, collection_id, object_id, _params(request)
    )
    return _json(body, page.headers)


@router.get("/{api_root}/status/{status_id}/", dependencies=[needs("sharing:read")])
def get_status(
    api_root: Root,
    status_id: StatusId,
    principal: CurrentPrincipal,
    session: DbSession,
    _a: Accept,
) -> Response:
    return _json(taxii.get_status(session, principal, api_root, status_id))


def install(app: FastAPI) -> None:
    """Errors under /taxii2/ as TAXII error messages (the rest of the app keeps
    problem+json): same status and headers, the problem's title and detail."""

    @app.middleware("http")
    async def taxii_errors(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if not request.url.path.startswith("/taxii2") or response.status_code < 400:
            return response
        if not response.headers.get("content-type", "").startswith("application/problem+json"):
            return response
        chunks = [c async for c in response.body_iterator]  # type: ignore[attr-defined]
        raw = b"".join(c if isinstance(c, bytes) else str(c).encode() for c in chunks)
        try:
            problem = json.loads(raw)
        except ValueError:
            problem = {}
        error = {
            "title": str(problem.get("title") or "Error"),
            "description": str(problem.get("detail") or ""),
            "http_status": str(response.status_code),
        }
        keep = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-type")
        }
        return _json(error, keep, status=response.status_code)

"""A ``requests`` transport adapter that sends through the guarded httpx client.

Libraries built on ``requests`` (OASIS's ``taxii2-client``, PyMISP) get the same SSRF
guard, resolver map, proxies and timeouts as everything else that leaves the instance:
mount this adapter on their ``requests.Session`` for ``http://`` and ``https://``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


class GuardedAdapter(BaseAdapter):
    def __init__(self, client: httpx.Client) -> None:
        super().__init__()
        self.client = client

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        raw = request.body
        body: bytes | None
        if raw is None or isinstance(raw, bytes):
            body = raw
        elif isinstance(raw, str):
            body = raw.encode("utf-8")
        else:
            raise requests.exceptions.RequestException("streamed bodies are not supported")
        headers = {
            k: v if isinstance(v, str) else v.decode("latin-1") for k, v in request.headers.items()
        }
        try:
            resp = self.client.request(
                request.method or "GET", request.url or "", headers=headers, content=body
            )
        except httpx.TimeoutException as exc:
            raise requests.exceptions.Timeout(str(exc), request=request) from exc
        except httpx.HTTPError as exc:
            raise requests.exceptions.ConnectionError(str(exc), request=request) from exc
        out = requests.Response()
        out.status_code = resp.status_code
        out.headers = CaseInsensitiveDict(resp.headers.multi_items())
        out._content = resp.content
        out.url = str(resp.url)
        out.reason = resp.reason_phrase
        out.encoding = resp.encoding
        out.request = request
        return out

    def close(self) -> None:
        self.client.close()


def mount(session: requests.Session, client: httpx.Client) -> requests.Session:
    adapter = GuardedAdapter(client)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session

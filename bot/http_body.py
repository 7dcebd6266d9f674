"""Reading a request's body at the edge. Whatever the sender got wrong in it — a `Content-Encoding` that
does not decode, an unknown charset, a broken multipart body, text that is not UTF-8 — is the sender's
error: a 400 before any work, never a 500. Every endpoint reads its body through here."""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

# What aiohttp raises while decoding a body the client sent: bad compression surfaces as
# RequestPayloadError or an HttpProcessingError; an unknown charset as LookupError (from codecs);
# a missing multipart boundary or undecodable text as ValueError.
_SENDERS_FAULT = (RequestPayloadError, HttpProcessingError, LookupError, ValueError)


async def read_bytes(request: web.Request, refusal: str) -> bytes:
    """The raw body; a 400 saying `refusal` when it cannot be decoded."""
    try:
        return await request.read()
    except _SENDERS_FAULT:
        raise _refused(request, refusal) from None


async def read_form(request: web.Request, refusal: str) -> dict[str, str]:
    """A submitted form's text fields; a 400 saying `refusal` when the body does not parse."""
    try:
        posted = await request.post()
    except _SENDERS_FAULT:
        raise _refused(request, refusal) from None
    return {str(k): v for k, v in posted.items() if isinstance(v, str)}


def _refused(request: web.Request, refusal: str) -> web.HTTPBadRequest:
    """The 400. The rest of a body that does not decode cannot be read either: mark it ended, or
    aiohttp would try to drain it after the answer and log the same decoding error as unhandled; and
    tell the client to open a new connection for its next request."""
    request.content.feed_eof()
    answer = web.HTTPBadRequest(text=refusal)
    answer.force_close()  # the parser is past a broken body: this connection carries nothing more
    return answer

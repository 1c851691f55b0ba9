"""Hand-written hostile answers for crawls (``httpx.MockTransport``), no network."""

from __future__ import annotations

from collections.abc import Callable


def tg_page(channel: str, numbers: list[int], *, more: bool, text: str = "synthetic") -> str:
    msgs = "".join(
        f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" '
        f'data-post="{channel}/{n}"><div class="tgme_widget_message_text" dir="auto">'
        f'{text} {n}</div><time datetime="2026-12-06T10:00:00+00:00"></time></div></div>'
        for n in numbers
    )
    more_link = (
        f'<a class="tme_messages_more" data-before="{numbers[0]}" '
        f'href="/s/{channel}?before={numbers[0]}"></a>'
        if more and numbers
        else ""
    )
    return (
        f'<html><body><section class="tgme_channel_history">{more_link}{msgs}</section>'
        "</body></html>"
    )


def endless_tg(channel: str) -> Callable[[int | None], str]:
    """A preview that always has older messages: pagination never ends."""

    def page(before: int | None) -> str:
        top = before or 1_000_000_000
        return tg_page(channel, list(range(top - 20, top)), more=True)

    return page

"""Telegram, WhatsApp and self-hosted Rocket.Chat."""

from __future__ import annotations

import re

from takedown.platforms.canon.common import ID_RE, Redirect, make, number, page
from takedown.platforms.canon.parse import Parsed, strip_www
from takedown.platforms.canon.types import InvalidURL, ItemIdentity, ItemKind

A, C, M, PG = ItemKind.ACCOUNT, ItemKind.CHANNEL, ItemKind.MESSAGE, ItemKind.PAGE

# --- Telegram --------------------------------------------------------------

TG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,31}")
TG_INVITE_RE = re.compile(r"[A-Za-z0-9_\-]{8,64}")
TG_RESERVED = frozenset(
    {
        "s", "c", "joinchat", "addstickers", "addemoji", "share", "proxy", "socks", "iv",
        "login", "addlist", "setlanguage", "addtheme", "contact", "boost", "bg", "invoice",
        "confirmphone", "giftcode", "nft", "msg", "faq", "apps", "blog", "privacy", "tos",
        "api", "dl", "embed", "js", "css", "img", "i", "k", "a", "z", "web", "auth",
    }
)  # fmt: skip


def _tg_channel(name: str) -> ItemIdentity:
    return make("telegram", C, f"channel/{name}", f"https://t.me/{name}", f"https://t.me/s/{name}")


def _tg_message(chat: str, msg: str, private: bool = False) -> ItemIdentity:
    path = f"c/{chat}" if private else chat
    return make(
        "telegram",
        M,
        f"message/{path}/{msg}",
        f"https://t.me/{path}/{msg}",
        parent_kind=C,
        parent_key=f"channel/{path}",
    )


def _tg_invite(code: str) -> ItemIdentity:
    return make("telegram", C, f"invite/{code}", f"https://t.me/+{code}")


def _tg_phone(digits: str) -> ItemIdentity:
    return make("telegram", A, f"phone/{digits}", f"https://t.me/+{digits}")


def _tg_name_path(name: str, rest: list[str]) -> ItemIdentity | None:
    if name.lower() in TG_RESERVED or not TG_NAME_RE.fullmatch(name):
        return None
    name = name.lower()
    if not rest:
        return _tg_channel(name)
    # /<name>/<n> or, in forum groups, /<name>/<topic>/<n>: message ids are per chat.
    if len(rest) <= 2 and (msg := number(rest[-1])) and all(number(r) for r in rest):
        return _tg_message(name, msg)
    return None


def telegram(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    bare = u.bare
    if bare.endswith(".t.me"):  # <name>.t.me is the same as t.me/<name>
        sub = bare[: -len(".t.me")]
        found = _tg_name_path(sub, segs)
        return found if found else page("telegram", u, bare)
    if segs and segs[0] in ("s", "S"):
        segs = segs[1:]
    if not segs:
        return page("telegram", u, "t.me")
    first = segs[0]
    n = len(segs)
    if first.lower() in ("joinchat", "c"):
        first = first.lower()
    if first == "joinchat" and n == 2 and TG_INVITE_RE.fullmatch(segs[1]):
        return _tg_invite(segs[1])
    if first.startswith("+") and n == 1:
        code = first[1:]
        if digits := number(code):
            return _tg_phone(digits)
        if TG_INVITE_RE.fullmatch(code):
            return _tg_invite(code)
    if first == "c" and n >= 2 and (chat := number(segs[1])):
        if n == 2:
            return make("telegram", C, f"channel/c/{chat}", f"https://t.me/c/{chat}")
        if n <= 4 and (msg := number(segs[-1])):
            return _tg_message(chat, msg, private=True)
    found = _tg_name_path(first, segs[1:])
    return found if found else page("telegram", u, "t.me")


def tg_link(u: Parsed) -> ItemIdentity:
    action = u.host
    if action == "resolve":
        domain = u.q("domain")
        if domain:
            post = number(u.q("post") or "")
            found = _tg_name_path(domain, [post] if post else [])
            if found:
                return found
        phone = number(u.q("phone") or "")
        if phone:
            return _tg_phone(phone)
        raise InvalidURL("tg://resolve link without a valid domain")
    if action == "join" and (code := u.q("invite")) and TG_INVITE_RE.fullmatch(code):
        return _tg_invite(code)
    if action == "privatepost":
        chat, msg = number(u.q("channel") or ""), number(u.q("post") or "")
        if chat and msg:
            return _tg_message(chat, msg, private=True)
    raise InvalidURL(f"unsupported tg:// link {action!r}")


# --- WhatsApp --------------------------------------------------------------


def whatsapp(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    n = len(segs)
    bare = u.bare
    if bare == "chat.whatsapp.com":
        code = segs[-1] if n in (1, 2) and (n == 1 or segs[0] == "invite") else ""
        if code and ID_RE.fullmatch(code):
            return make("whatsapp", C, f"invite/{code}", f"https://chat.whatsapp.com/{code}")
        return page("whatsapp", u, bare)
    if bare == "wa.me" or (bare == "api.whatsapp.com" and segs == ["send"]):
        raw = segs[-1] if bare == "wa.me" and segs else (u.q("phone") or "")
        if digits := number(raw.lstrip("+")):
            return make("whatsapp", A, f"account/{digits}", f"https://wa.me/{digits}")
        return page("whatsapp", u, bare)
    if n >= 2 and segs[0] == "channel" and ID_RE.fullmatch(segs[1]):
        return make(
            "whatsapp", C, f"channel/{segs[1]}", f"https://www.whatsapp.com/channel/{segs[1]}"
        )
    return page("whatsapp", u, "www.whatsapp.com")


# --- Rocket.Chat (any host) ------------------------------------------------

RC_ROOM_TYPES = frozenset({"channel", "group", "direct"})
RC_TABS = frozenset(
    {
        "channel-settings", "room-info", "user-info", "members-list", "files", "mentions",
        "pinned-messages", "starred-messages", "discussions", "threads", "search", "keyboard",
        "export-messages", "uploaded-files-list", "team-channels", "team-info", "video-conf",
        "push-notifications", "clean-history", "prune-messages", "read-receipts", "thread",
    }
)  # fmt: skip
RC_MSG_RE = re.compile(r"[A-Za-z0-9]{8,32}")


def rocketchat(u: Parsed) -> ItemIdentity | None:
    """Recognise a Rocket.Chat room or message link by its path shape, on any host.

    The host is part of every key: rooms on two servers with the same name are
    different items. Returns None when the path does not look like Rocket.Chat.
    """
    segs = u.segs()
    n = len(segs)
    if n < 2 or n > 4 or segs[0] not in RC_ROOM_TYPES:
        return None
    if n >= 3 and segs[2] not in RC_TABS:
        return None
    if n == 4 and segs[2] != "thread":
        return None
    room = f"{segs[0]}/{segs[1]}"
    hp = u.hostport
    base = f"{u.scheme}://{hp}/{room}"
    hp = strip_www(hp)
    room_key = f"{hp}/{room}"
    msg = u.q("msg")
    if not (msg and RC_MSG_RE.fullmatch(msg)):
        msg = segs[3] if n == 4 and RC_MSG_RE.fullmatch(segs[3]) else None
    if msg is None:
        return make("rocketchat", C, room_key, f"https://{hp}/{room}", base)
    return make(
        "rocketchat",
        M,
        f"{hp}/msg/{msg}",
        f"https://{hp}/{room}?msg={msg}",
        f"{base}?msg={msg}",
        parent_kind=C,
        parent_key=room_key,
    )

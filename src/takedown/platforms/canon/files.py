"""archive.org (items; the Wayback Machine is in ``dispatch``), Google Drive, Dropbox, Mega.

File hosts often put an access secret in the URL (a Mega key in the fragment,
a Dropbox ``rlkey``, a Drive ``resourcekey``). The secret is not part of the
identity and not part of ``canonical_url``; it stays in ``fetch_url`` so the
evidence capture can still open the file.
"""

from __future__ import annotations

import re

from takedown.platforms.canon.common import Redirect, drop_user_index, make, page
from takedown.platforms.canon.parse import Parsed
from takedown.platforms.canon.types import ItemIdentity, ItemKind

A, P, F, PG = ItemKind.ACCOUNT, ItemKind.POST, ItemKind.FILE, ItemKind.PAGE

# --- archive.org -----------------------------------------------------------

AID_RE = re.compile(r"[A-Za-z0-9._\-]{1,100}")
AO_READER = frozenset({"page", "mode", "start", "search", "q"})


def archive_org(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    n = len(segs)
    if n >= 2 and segs[0] in ("details", "embed", "download"):
        item = segs[1]
        if item.startswith("@") and segs[0] == "details" and AID_RE.fullmatch(item[1:]):
            name = item.lower()
            return make("archive_org", A, f"account/{name}", f"https://archive.org/details/{name}")
        if AID_RE.fullmatch(item):
            post_key = f"details/{item}"
            if n == 2 or segs[0] == "embed" or segs[2] in AO_READER:
                return make("archive_org", P, post_key, f"https://archive.org/details/{item}")
            rest = "/".join(segs[2:])
            return make(
                "archive_org",
                F,
                f"file/{item}/{rest}",
                f"https://archive.org/download/{item}/{rest}",
                parent_kind=P,
                parent_key=post_key,
            )
    return page("archive_org", u, "archive.org")


# --- Google Drive / Docs ---------------------------------------------------

GD_ID_RE = re.compile(r"[A-Za-z0-9_\-]{10,200}")
DOC_TYPES = frozenset({"document", "spreadsheets", "presentation", "drawings", "file", "forms"})


def _gd(kind: str, fid: str, u: Parsed, fetch_base: str | None = None) -> ItemIdentity:
    if kind == "folder":
        url = f"https://drive.google.com/drive/folders/{fid}"
    else:
        url = f"https://drive.google.com/file/d/{fid}/view"
    fetch = fetch_base or url
    rk = u.q("resourcekey")
    if rk and GD_ID_RE.fullmatch(rk):
        fetch = f"{fetch}?resourcekey={rk}"
    return make("google_drive", F, f"{kind}/{fid}", url, fetch)


def google_drive(u: Parsed) -> ItemIdentity | Redirect:
    segs = drop_user_index(u.segs())
    n = len(segs)
    bare = u.bare
    qid = u.q("id")
    if bare == "docs.google.com" and n >= 3 and segs[0] in DOC_TYPES and segs[1] == "d":
        doc = segs[0]
        if segs[2] == "e" and n >= 4 and GD_ID_RE.fullmatch(segs[3]):
            pub = segs[3]
            suffix = "viewform" if doc == "forms" else "pub"
            url = f"https://docs.google.com/{doc}/d/e/{pub}/{suffix}"
            return make("google_drive", F, f"published/{pub}", url)
        if GD_ID_RE.fullmatch(segs[2]):
            verb = "viewform" if doc == "forms" else ("view" if doc == "file" else "edit")
            return _gd("file", segs[2], u, f"https://docs.google.com/{doc}/d/{segs[2]}/{verb}")
    if n >= 3 and segs[0] == "file" and segs[1] == "d" and GD_ID_RE.fullmatch(segs[2]):
        return _gd("file", segs[2], u)
    gd_qid = qid if qid and GD_ID_RE.fullmatch(qid) else None
    if n >= 1 and segs[0] in ("open", "uc", "download", "thumbnail") and gd_qid:
        return _gd("file", gd_qid, u)
    if n >= 3 and segs[0] == "drive" and segs[-2] == "folders" and GD_ID_RE.fullmatch(segs[-1]):
        return _gd("folder", segs[-1], u)
    if n == 1 and segs[0] in ("folderview", "embeddedfolderview") and gd_qid:
        return _gd("folder", gd_qid, u)
    return page("google_drive", u, bare, frozenset({"usp", "resourcekey", "authuser"}))


# --- Dropbox ---------------------------------------------------------------

DB_KEY_RE = re.compile(r"[A-Za-z0-9_\-]{5,100}")
DB_DROP = frozenset({"dl", "raw", "st", "e", "rlkey", "preview"})


def dropbox(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    n = len(segs)
    if n >= 2 and segs[0] in ("s", "sh") and DB_KEY_RE.fullmatch(segs[1]):
        key = f"{segs[0]}/{segs[1]}"
    elif n >= 3 and segs[0] == "scl" and segs[1] in ("fi", "fo") and DB_KEY_RE.fullmatch(segs[2]):
        key = f"scl/{segs[1]}/{segs[2]}"
    else:
        return page("dropbox", u, "www.dropbox.com", DB_DROP)
    url = "https://www.dropbox.com/" + "/".join(segs)
    fetch = url
    rlkey = u.q("rlkey")
    if rlkey and DB_KEY_RE.fullmatch(rlkey):
        fetch = f"{url}?rlkey={rlkey}"
    return make("dropbox", F, key, url, fetch)


# --- Mega ------------------------------------------------------------------

MEGA_ID_RE = re.compile(r"[A-Za-z0-9_\-]{8}")
MEGA_KEY_RE = re.compile(r"[A-Za-z0-9_\-]{16,64}")


def _mega_key(text: str) -> str:
    return text if MEGA_KEY_RE.fullmatch(text) else ""


def _mega(kind: str, node: str, key: str, sub: tuple[str, str] | None = None) -> ItemIdentity:
    url = f"https://mega.nz/{kind}/{node}"
    if sub is None:
        fetch = f"{url}#{key}" if key else url
        return make("mega", F, f"{kind}/{node}", url, fetch)
    sub_kind, sub_node = sub
    return make(
        "mega",
        F,
        f"folder/{node}/{sub_kind}/{sub_node}",
        f"{url}/{sub_kind}/{sub_node}",
        f"{url}#{key}/{sub_kind}/{sub_node}",
        parent_kind=F,
        parent_key=f"folder/{node}",
    )


def mega(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    n = len(segs)
    frag = u.fragment
    if n == 0 or segs == ["embed"]:
        # Legacy forms: #!<id>!<key> (file) and #F!<id>!<key> (folder).
        if frag.startswith(("!", "F!")):
            folder = frag.startswith("F!")
            parts = frag[2 if folder else 1 :].split("!")
            if MEGA_ID_RE.fullmatch(parts[0]):
                key = _mega_key(parts[1]) if len(parts) > 1 else ""
                return _mega("folder" if folder else "file", parts[0], key)
        return page("mega", u, "mega.nz")
    if segs[0] in ("file", "embed") and n == 2 and MEGA_ID_RE.fullmatch(segs[1]):
        return _mega("file", segs[1], _mega_key(frag))
    if segs[0] == "folder" and n >= 2 and MEGA_ID_RE.fullmatch(segs[1]):
        key_part, _, sub_path = frag.partition("/")
        key = _mega_key(key_part)
        sub = sub_path.split("/") if sub_path else segs[2:]
        if len(sub) == 2 and sub[0] in ("file", "folder") and MEGA_ID_RE.fullmatch(sub[1]):
            return _mega("folder", segs[1], key, (sub[0], sub[1]))
        if n == 2:
            return _mega("folder", segs[1], key)
    return page("mega", u, "mega.nz")

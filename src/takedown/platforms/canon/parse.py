"""Split URL-ish text into normalised components.

Accepts what analysts actually paste: surrounding whitespace, ``<…>`` and
quotes, scheme-less ``x.com/foo``, defanged ``hxxps://example[.]com``, line
breaks inside a wrapped URL. Produces lower-case punycode hosts, no default
ports, RFC 3986 percent-encoding (unreserved decoded, escapes upper-cased,
everything else encoded as UTF-8), no dot segments and no trailing slash.
Anything that cannot be a web address raises :class:`InvalidURL` with the
reason; nothing else escapes (``ValueError``/``UnicodeError`` are converted by
the caller as a last line of defence).
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache

from publicsuffixlist import PublicSuffixList

from takedown.platforms.canon.types import InvalidURL

MAX_URL_LENGTH = 8192

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_RE = re.compile(r"\s")
# RFC 3986 userinfo: unreserved, pct-encoded, sub-delims and ":".
_USERINFO_RE = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:]*")
# Characters no URL holds (RFC 3986); browsers escape them in what they copy. Text without a
# scheme that holds one is not a URL (a fuzzer's "E.tJ?vS]d" is not the site e.tj).
_NOT_URL_CHARS = frozenset('<>"{}|^`[]')
_AUTH_END_RE = re.compile(r"[/?#\\]")
_HOST_RE = re.compile(r"[a-z0-9_\-]{1,63}(?:\.[a-z0-9_\-]{1,63})*")
_DIGITS_RE = re.compile(r"[0-9]{1,5}")
# RFC 3986 pchar plus "/" (and "?" for queries); "%" is handled separately.
_PATH_OK_RE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_QUERY_OK_RE = re.compile(r"[A-Za-z0-9\-._~!$'()*+,;=:@/?]*")
_PATH_FIX_RE = re.compile(r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~!$&'()*+,;=:@/]")
_QUERY_FIX_RE = re.compile(r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~!$'()*+,;=:@/?]")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_WS = " \t\r\n\f\v\u00a0\u200b\u200e\u200f\u2028\u2029\ufeff"
_QUOTES = "'`\u2018\u2019"  # legal (or encoded) inside a URL: trimmed at the end only in pairs
_LEAD = _WS + '<"\u201c\u201d\u00ab\u00bb' + _QUOTES
_TAIL = _WS + '>"\u201c\u201d\u00ab\u00bb'
_LEAD_SET = frozenset(_LEAD)
_TAIL_SET = frozenset(_TAIL + _QUOTES)
_QUOTE_SET = frozenset(_QUOTES)
_NEWLINES = str.maketrans("", "", "\t\r\n")
_HTTPISH = {"http": "http", "https": "https", "hxxp": "http", "hxxps": "https"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DEFANG = (("[.]", "."), ("(.)", "."), ("[dot]", "."), ("{.}", "."))
# Top-level names reserved for documentation and testing (RFC 2606, RFC 6761): never
# registered, so never real content, but the testbed and the tests live under them.
SPECIAL_USE_TLDS = frozenset({"example", "test", "localhost"})
# The label a registrant chose (left of the public suffix): letters, digits and inner
# hyphens (RFC 1123). Deeper sub-domains may hold underscores, as DNS allows.
_LDH_RE = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")

# Query parameters that only track the click, never select content. Platform
# rules add their own (``s``/``t`` on X, ``si`` on YouTube, ...).
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ttclid",
        "twclid", "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc",
        "_hsmi", "mkt_tok", "si", "feature", "ref", "ref_src", "ref_url", "mibextid", "__tn__",
        "vero_id", "oly_anon_id", "oly_enc_id", "rb_clickid", "wickedid", "s_cid", "epik",
        "_branch_match_id", "_branch_referrer", "srsltid", "cmpid", "sfnsn", "rdid", "share_id",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "__cft__", "pk_", "mtm_", "hsa_")


def _pct_path(m: re.Match[str]) -> str:
    t = m.group()
    if len(t) == 3 and t[0] == "%":
        c = chr(int(t[1:], 16))
        return c if c in _UNRESERVED else t.upper()
    if t == "%":
        return "%25"
    return "".join(f"%{b:02X}" for b in t.encode("utf-8"))


def norm_path(path: str) -> str:
    """Percent-normalise, resolve dot segments, drop trailing slashes."""
    if not _PATH_OK_RE.fullmatch(path):
        path = _PATH_FIX_RE.sub(_pct_path, path)
    if "/." in path:
        out: list[str] = []
        for seg in path.split("/")[1:]:
            if seg == ".":
                continue
            if seg == "..":
                if out:
                    out.pop()
                continue
            out.append(seg)
        path = "/" + "/".join(out)
    return path.rstrip("/")


def norm_query_part(text: str) -> str:
    if _QUERY_OK_RE.fullmatch(text):
        return text
    return _QUERY_FIX_RE.sub(_pct_path, text)


def parse_query(query: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        k, _, v = piece.partition("=")
        if k or v:
            pairs.append((norm_query_part(k), norm_query_part(v)))
    return pairs


def is_tracking(key: str) -> bool:
    k = key.lower()
    return k in TRACKING_PARAMS or k.startswith(TRACKING_PREFIXES)


def build_query(pairs: list[tuple[str, str]], drop: frozenset[str] = frozenset()) -> str:
    """Meaningful parameters, sorted, as ``?k=v&...`` (empty string if none)."""
    kept = [(k, v) for k, v in pairs if not is_tracking(k) and (not drop or k.lower() not in drop)]
    if not kept:
        return ""
    kept.sort()
    return "?" + "&".join(f"{k}={v}" if v else k for k, v in kept)


def raw_query(pairs: list[tuple[str, str]]) -> str:
    """All parameters in their given order (for URLs wrapped inside URLs)."""
    if not pairs:
        return ""
    return "?" + "&".join(f"{k}={v}" if v else k for k, v in pairs)


class Parsed:
    """A normalised URL. ``host`` is the full host; ``bare`` has ``www.``/``m.``/``mobile.`` off."""

    __slots__ = ("bare", "explicit_scheme", "fragment", "host", "path", "port", "query", "scheme")

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int | None,
        path: str,
        query: list[tuple[str, str]],
        fragment: str,
        explicit_scheme: bool,
        bare: str | None = None,
    ) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.fragment = fragment
        self.explicit_scheme = explicit_scheme
        self.bare = strip_host_prefixes(host) if bare is None else bare

    @property
    def hostport(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def segs(self) -> list[str]:
        return [s for s in self.path.split("/") if s]

    def q(self, name: str) -> str | None:
        for k, v in self.query:
            if k == name:
                return v
        return None


def strip_host_prefixes(host: str) -> str:
    while True:
        for prefix in ("www.", "m.", "mobile."):
            if host.startswith(prefix) and "." in host[len(prefix) :]:
                host = host[len(prefix) :]
                break
        else:
            return host


def strip_www(host: str) -> str:
    while host.startswith("www.") and "." in host[4:]:
        host = host[4:]
    return host


def trim(raw: str) -> str:
    s = raw
    if s and (s[0] in _LEAD_SET or s[-1] in _TAIL_SET):  # the common case skips all this
        s = s.strip(_WS)
        stripped = s.lstrip(_LEAD)
        paired = not _QUOTE_SET.isdisjoint(s[: len(s) - len(stripped)])
        s = stripped.rstrip(_TAIL + _QUOTES) if paired else stripped.rstrip(_TAIL)
    if "\t" in s or "\n" in s or "\r" in s:
        s = s.translate(_NEWLINES)
    return s


def norm_host(host: str) -> str:
    if not host:
        raise InvalidURL("no host")
    if host.startswith("["):
        if not host.endswith("]"):
            raise InvalidURL(f"invalid IPv6 host {host!r}")
        try:
            return "[" + ipaddress.IPv6Address(host[1:-1]).compressed + "]"
        except ValueError:
            raise InvalidURL(f"invalid IPv6 host {host!r}") from None
    if "[" in host or "(" in host or "{" in host:
        for fanged, plain in _DEFANG:
            host = host.replace(fanged, plain)
    if "%" in host:
        from urllib.parse import unquote

        host = unquote(host, errors="strict")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidURL(f"invalid internationalised host {host!r}") from None
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    if len(host) > 253 or not _HOST_RE.fullmatch(host):
        raise InvalidURL(f"invalid host {host!r}")
    if "." not in host and host != "localhost":
        raise InvalidURL(f"host {host!r} is not a domain name")
    if "xn--" in host:
        _check_punycode(host)
    if host != "localhost":
        _check_public_suffix(host)
    return host


@cache
def _suffixes() -> PublicSuffixList:
    """The Public Suffix List shipped in the ``publicsuffixlist`` wheel (never downloaded).

    ICANN section only, unknown top-level names refused: ``y_.4jb`` is not a host.
    """
    return PublicSuffixList(accept_unknown=False, only_icann=True)


def _check_public_suffix(host: str) -> None:
    """A host is an IPv4 address, or a name under a real public suffix (or a special-use
    test name); ``.onion`` names are checked by the onion rules."""
    labels = host.split(".")
    if all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise InvalidURL(f"invalid IPv4 address {host!r}") from None
        return
    tld = labels[-1]
    if tld == "onion":
        return
    if tld in SPECIAL_USE_TLDS:
        registrable = labels[-2]
    else:
        suffix = _suffixes().publicsuffix(host)
        if suffix is None:
            raise InvalidURL(f"invalid host {host!r}: .{tld} is not a top-level domain")
        if suffix == host:
            raise InvalidURL(f"invalid host {host!r}: it is a public suffix, not a site's name")
        registrable = labels[-(suffix.count(".") + 2)]
    if not _LDH_RE.fullmatch(registrable):
        raise InvalidURL(
            f"invalid host {host!r}: {registrable!r} is not a domain name (letters, digits "
            "and inner hyphens only)"
        )


def _check_punycode(host: str) -> None:
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                decoded = label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                decoded = ""
            if not decoded or decoded.isascii():
                raise InvalidURL(f"invalid internationalised host label {label!r}")


def _split_hostport(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end == -1:
            raise InvalidURL(f"invalid IPv6 host {authority!r}")
        rest = authority[end + 1 :]
        if rest and not rest.startswith(":"):
            raise InvalidURL(f"invalid host {authority!r}")
        return authority[: end + 1], (rest[1:] if rest else None)
    host, sep, port = authority.rpartition(":")
    if not sep:
        return authority, None
    return host, port


def split_scheme(s: str) -> tuple[str | None, str]:
    """Return (lower-cased scheme or None, rest after ``scheme:``/``//``)."""
    m = _SCHEME_RE.match(s)
    if m:
        cand = m.group(1).lower()
        rest = s[m.end() :]
        if rest.startswith("//"):
            if cand in _HTTPISH or cand == "tg":
                return cand, rest[2:]
            raise InvalidURL(f"unsupported scheme {cand!r}")
        if cand == "tg":
            return cand, rest
        if cand in _HTTPISH:  # "https:x.com", "https:/x.com": what browsers accept
            return cand, rest.lstrip("/")
        if "." not in cand and not (rest[:1].isascii() and rest[:1].isdigit()):
            raise InvalidURL(f"unsupported scheme {cand!r}")
    if s.startswith("//"):
        return None, s[2:]
    return None, s


# The host part of a URL repeats across a file (a few hundred hosts in a day of 26,000
# reports), and normalising it (IDNA, defanging, the host grammar, the port, the www./m.
# prefixes) is most of parse()'s cost. Results by (scheme as written, authority) are kept
# here, bounded; only successes are kept, so every bad host still raises its own error.
_AUTHORITY_CACHE_MAX = 4096
_authorities: dict[tuple[str | None, str], tuple[str, bool, str, int | None, str]] = {}


def _authority(scheme: str | None, authority: str) -> tuple[str, bool, str, int | None, str]:
    """(scheme, explicit scheme?, host, port or None, bare host) of one scheme + authority."""
    hit = _authorities.get((scheme, authority))
    if hit is not None:
        return hit
    key = (scheme, authority)
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        if not _USERINFO_RE.fullmatch(userinfo):
            raise InvalidURL(f"invalid user name {userinfo!r} before '@'")
        # credentials never belong to an identity
    host_raw, port_raw = _split_hostport(authority)
    host = norm_host(host_raw)
    plain = plain_http_host(host)
    if scheme is None:
        explicit = False
        scheme = "http" if plain else "https"
    else:
        explicit = True
        scheme = _HTTPISH[scheme]
    port: int | None = None
    if port_raw:
        if not _DIGITS_RE.fullmatch(port_raw) or int(port_raw) > 65535:
            raise InvalidURL(f"invalid port {port_raw!r}")
        port = int(port_raw)
        if plain:  # the identity URL keeps the scheme given: only its own default goes
            if port == _DEFAULT_PORTS[scheme]:
                port = None
        # 443 is dropped even under http: the identity URL is https, where it is the default.
        elif port == _DEFAULT_PORTS[scheme] or port == 443 or (not explicit and port == 80):
            port = None
    out = (scheme, explicit, host, port, strip_host_prefixes(host))
    if len(_authorities) >= _AUTHORITY_CACHE_MAX:
        _authorities.clear()
    _authorities[key] = out
    return out


def plain_http_host(host: str) -> bool:
    """``.onion`` services and bare IP addresses: usually plain HTTP, often with no
    certificate at all, so their identity URL keeps ``http://`` (a URL with no scheme is
    read as ``http://``) rather than being folded into ``https://`` as names are."""
    if host.endswith(".onion") or host.startswith("["):
        return True
    labels = host.split(".")
    return len(labels) == 4 and all(label.isdigit() for label in labels)


def clear_authority_cache() -> None:
    """Empty the host cache (tests that measure memory start every run from the same state)."""
    _authorities.clear()


def parse(raw: object) -> Parsed:
    if not isinstance(raw, str):
        raise InvalidURL(f"expected text, got {type(raw).__name__}")
    s = trim(raw)
    if not s:
        raise InvalidURL("empty URL")
    if len(s) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters")
    if _CTRL_RE.search(s):
        raise InvalidURL("control character in URL")
    if _BLANK_RE.search(s):
        raise InvalidURL(
            "the URL contains a space or another blank: encode it as %20, or write one URL per line"
        )
    # The common spellings skip split_scheme (which returns exactly this for them).
    if s.startswith("https://"):
        scheme: str | None = "https"
        rest = s[8:]
    elif s.startswith("http://"):
        scheme, rest = "http", s[7:]
    else:
        scheme, rest = split_scheme(s)
        if scheme == "tg":
            return _parse_tg(rest)
    m = _AUTH_END_RE.search(rest)
    if m is None:
        authority, tail = rest, ""
    else:
        authority, tail = rest[: m.start()], rest[m.start() :]
    scheme, explicit, host, port, bare = _authority(scheme, authority)
    if not explicit and not _NOT_URL_CHARS.isdisjoint(tail):
        raise InvalidURL(
            "not a URL: no scheme, and characters a URL cannot hold ("
            + "".join(sorted(_NOT_URL_CHARS.intersection(tail)))
            + ")"
        )
    fragment = ""
    if "#" in tail:
        tail, _, fragment = tail.partition("#")
    query_s = ""
    if "?" in tail:
        tail, _, query_s = tail.partition("?")
    if "\\" in tail:
        tail = tail.replace("\\", "/")
    return Parsed(
        scheme,
        host,
        port,
        norm_path(tail),
        parse_query(query_s) if query_s else [],
        fragment,
        explicit,
        bare,
    )


def _parse_tg(rest: str) -> Parsed:
    """``tg://resolve?domain=…``: the "host" is the action, the query its arguments."""
    rest = rest.lstrip("/")
    rest = rest.partition("#")[0]
    action, _, query_s = rest.partition("?")
    action = action.rstrip("/").lower()
    if not action:
        raise InvalidURL("tg: link without an action")
    p = Parsed("tg", "", None, "", parse_query(query_s) if query_s else [], "", True)
    p.host = action
    p.bare = action
    return p


_SEG_FIX_RE = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@]")


def lower_segment(seg: str) -> str:
    """Lower-case one path segment, including percent-encoded non-ASCII letters."""
    if "%" not in seg and seg.isascii():
        return seg.lower()
    from urllib.parse import unquote

    text = unquote(seg).lower()
    return _SEG_FIX_RE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), text)

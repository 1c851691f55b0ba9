"""E-mail delivery: the order as text and as an attached PDF (and JSON), over SMTP.

The platform's SMTP answer to DATA is kept as the acknowledgement; some
intakes (the testbed's among them) put their acknowledgement id in it.
"""

from __future__ import annotations

import email.policy
import json
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from takedown.kit.errors import Unavailable
from takedown.referrals.channels.base import Attempt, Envelope

ACK = re.compile(r"acknowledgement\s+([A-Za-z0-9._,-]+)", re.I)


def parse_smtp_url(url: str) -> tuple[str, int, str | None, str | None, bool, str]:
    """``smtp://user:pass@host:port?from=addr`` (``smtps://`` for implicit TLS)."""
    u = urlsplit(url)
    if u.scheme not in ("smtp", "smtps"):
        raise ValueError("TAKEDOWN_SMTP_URL must start with smtp:// or smtps://")
    query = dict(p.split("=", 1) for p in u.query.split("&") if "=" in p)
    sender = unquote(query.get("from", "referrals@takedown.invalid"))
    return (
        u.hostname or "127.0.0.1",
        u.port or (465 if u.scheme == "smtps" else 25),
        unquote(u.username) if u.username else None,
        unquote(u.password) if u.password else None,
        u.scheme == "smtps",
        sender,
    )


def message_id(idempotency_key: str, sender: str) -> str:
    """The same Message-ID for every attempt of one delivery: the receiver recognises a
    retry after a crash (the e-mail form of the API's ``Idempotency-Key``)."""
    local = re.sub(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]", ".", idempotency_key) or "referral"
    domain = sender.rpartition("@")[2] or "takedown.invalid"
    return f"<{local}@{domain}>"


class EmailChannel:
    name = "email"

    def __init__(self, smtp_url: str, *, timeout: float = 30.0, attach_pdf: bool = True) -> None:
        self.host, self.port, self.user, self.password, self.tls, self.sender = parse_smtp_url(
            smtp_url
        )
        self.timeout = timeout
        self.attach_pdf = attach_pdf

    def message(self, envelope: Envelope) -> EmailMessage:
        to = envelope.copy_to or envelope.platform.email
        assert to
        order = envelope.kind == "removal_order"
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = message_id(envelope.idempotency_key, self.sender)
        count = f"{len(envelope.urls)} item{'s' if len(envelope.urls) != 1 else ''}"
        if envelope.copy_to:
            msg["Subject"] = (
                f"Copy under Art. 4(1) of removal order {envelope.reference} to "
                f"{envelope.platform.name} ({count})"
            )
            msg.set_content(
                "\n".join(
                    [
                        f"COPY OF REMOVAL ORDER {envelope.reference} under Article 4(1) of "
                        "Regulation (EU) 2021/784",
                        f"To: {envelope.copy_authority or to}",
                        f"From: {envelope.agency} <{envelope.agency_contact}>",
                        "",
                        f"The removal order {envelope.reference} was issued to "
                        f"{envelope.platform.name}, whose main establishment or legal "
                        f"representative is in your Member State ({envelope.platform.country}).",
                        "This copy is submitted simultaneously with the order. You may "
                        "scrutinise it within 72 hours of receipt (Art. 4(3)-(4)).",
                        "The order as the hosting service provider received it (Annex I) is "
                        "attached as PDF and JSON.",
                        "",
                        "Items:",
                        *envelope.urls,
                        "",
                    ]
                )
            )
            self._attach(msg, envelope)
            return msg
        msg["Subject"] = (
            f"{'Removal order' if order else 'Referral'} {envelope.reference} ({count})"
        )
        lines = [
            f"{'REMOVAL ORDER under Regulation (EU) 2021/784' if order else 'Referral'} "
            f"{envelope.reference}",
            f"From: {envelope.agency} <{envelope.agency_contact}>",
            "",
        ]
        if order:
            lines += [
                "Remove or disable access in all Member States within one hour of receipt.",
                "The full order (Annex I) is attached as PDF and JSON.",
                "",
            ]
        lines += ["Items:", *envelope.urls, ""]
        msg.set_content("\n".join(lines))
        self._attach(msg, envelope)
        return msg

    def _attach(self, msg: EmailMessage, envelope: Envelope) -> None:
        """The frozen document: PDF (HTML without Chromium) and JSON."""
        if self.attach_pdf:
            try:
                msg.add_attachment(
                    envelope.pdf(),
                    maintype="application",
                    subtype="pdf",
                    filename=f"{envelope.reference}.pdf",
                )
            except Unavailable:
                msg.add_attachment(
                    envelope.html().encode("utf-8"),
                    maintype="text",
                    subtype="html",
                    filename=f"{envelope.reference}.html",
                )
        msg.add_attachment(
            json.dumps(envelope.document, indent=2, ensure_ascii=False, default=str).encode(),
            maintype="application",
            subtype="json",
            filename=f"{envelope.reference}.json",
        )

    def deliver(self, envelope: Envelope) -> Attempt:
        to = envelope.copy_to or envelope.platform.email
        if not to:
            return Attempt(False, retryable=False, detail="the platform has no referral e-mail")
        msg = self.message(envelope)
        try:
            cls = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
            with cls(self.host, self.port, timeout=self.timeout) as smtp:
                if not self.tls:
                    smtp.ehlo()
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=ssl.create_default_context())
                if self.user and self.password:
                    smtp.login(self.user, self.password)
                code, resp = smtp.mail(self.sender)
                if code != 250:
                    return Attempt(False, status_code=code, detail=resp.decode(errors="replace"))
                code, resp = smtp.rcpt(to)
                if code not in (250, 251):
                    return Attempt(
                        False,
                        retryable=code < 500,
                        status_code=code,
                        detail=resp.decode(errors="replace"),
                    )
                code, resp = smtp.data(msg.as_bytes(policy=email.policy.SMTP))
        except (OSError, smtplib.SMTPException) as exc:
            return Attempt(False, detail=f"{type(exc).__name__}: {exc}")
        text = resp.decode(errors="replace")
        if code != 250:
            return Attempt(False, retryable=code < 500, status_code=code, detail=text)
        m = ACK.search(text)
        return Attempt(True, status_code=code, ack_reference=m.group(1) if m else None, detail=text)

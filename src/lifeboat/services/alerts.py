"""Alert subscriptions and their delivery.

``DirectoryUnit.alert`` writes an outbox row per interested subscription inside the caller's
directory transaction, so an alert exists exactly when what caused it committed. ``deliver_due``
(run by the job loops) sends them: webhooks as a signed JSON POST, email over SMTP,
retried with exponential backoff.

Webhook signature: ``X-Lifeboat-Signature: sha256=<hex>``, the HMAC-SHA256 with the
subscription's secret over ``<X-Lifeboat-Timestamp>.<raw body>``. Where a webhook may go,
and what a tenant may read about a failed delivery, is ``services.webhook_targets``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import smtplib
import time
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlparse

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.fields import EMAIL, FieldError, storable
from lifeboat.domain.records import AlertEvent, OutboxItem, Subscription
from lifeboat.errors import Invalid, NotFound
from lifeboat.services import webhook_targets
from lifeboat.services.tenancy.tenants import open_tenant
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit

log = logging.getLogger("lifeboat.alerts")
# What a subscription may name (a tuple: a request body may hold anything); "test" is only sent on request.
EVENTS = tuple(e for e in AlertEvent if e is not AlertEvent.TEST)
SENDING_LEASE = timedelta(minutes=2)
MAX_TARGET = 500  # characters: the size of the stored column


def subscribe(
    platform: Platform, principal: Principal, tenant_id: int, payload: Any
) -> tuple[Subscription, str | None]:
    """A new subscription; a webhook's signing secret is returned this once."""
    tenant, _ = open_tenant(platform, principal, tenant_id, "bcp.enablement.edit")
    kind, target, events = _validate(payload)
    if kind == "webhook":
        webhook_targets.refuse_unless_allowed(target, allow_private=platform.settings.alert_allow_private_networks)
    secret = secrets.token_urlsafe(32) if kind == "webhook" else None
    with platform.directory_unit() as uow:
        sub = uow.subscriptions.create(tenant.id, kind, target, secret, events)
        uow.audit(
            principal.actor,
            "alerts.subscribe",
            tenant_id=tenant.id,
            after={"id": sub.id, "kind": kind, "target": target, "events": events},
        )
    return sub, secret


def _validate(payload: Any) -> tuple[str, str, list[str]]:
    if not isinstance(payload, dict):
        raise Invalid("The body must be a JSON object.", code="not_an_object")
    kind, target, events = payload.get("kind"), payload.get("target"), payload.get("events", list(EVENTS))
    errors = [
        {"field": k, "code": "unknown_field", "message": "is not a field"}
        for k in payload
        if k not in ("kind", "target", "events")
    ]
    if kind not in ("webhook", "email"):
        errors.append({"field": "kind", "code": "bad_choice", "message": "must be webhook or email"})
    elif isinstance(target, str) and not _is_storable(target):
        errors.append(
            {
                "field": "target",
                "code": "bad_target",
                "message": f"must be text of at most {MAX_TARGET} characters, without NUL or lone surrogates",
            }
        )
    elif kind == "webhook" and not _is_http_url(target):
        errors.append({"field": "target", "code": "bad_url", "message": "a webhook needs an http(s) URL"})
    elif kind == "email" and not (isinstance(target, str) and EMAIL.fullmatch(target)):
        errors.append({"field": "target", "code": "bad_email", "message": "an email subscription needs an address"})
    if not isinstance(events, list) or not events or any(e not in EVENTS for e in events):
        errors.append({"field": "events", "code": "bad_events", "message": f"a non-empty list of: {', '.join(EVENTS)}"})
    if errors:
        raise Invalid.fields(errors)
    assert isinstance(kind, str) and isinstance(target, str)  # each kind's check above needs a text target
    return kind, target, sorted(set(events))


def _is_storable(value: str) -> bool:
    if len(value) > MAX_TARGET:
        return False
    try:
        storable(value)
    except FieldError:
        return False
    return True


def _is_http_url(value: Any) -> bool:
    try:
        parsed = urlparse(value) if isinstance(value, str) else None
    except ValueError:  # "http://[" (an unclosed IPv6 address) cannot be parsed
        return False
    return bool(parsed and parsed.scheme in ("http", "https") and parsed.netloc)


def list_subscriptions(
    platform: Platform, principal: Principal, tenant_id: int
) -> list[tuple[Subscription, list[dict[str, Any]]]]:
    """Each subscription of the tenant with its five latest outbox rows."""
    tenant, _ = open_tenant(platform, principal, tenant_id, "bcp.enablement.view")
    with platform.directory_unit(write=False) as uow:
        subs = uow.subscriptions.of_tenants([tenant.id])
        return [(s, uow.outbox.of_subscription(s.id, 5)) for s in subs]


def delete_subscription(platform: Platform, principal: Principal, tenant_id: int, sub_id: int) -> None:
    tenant, _ = open_tenant(platform, principal, tenant_id, "bcp.enablement.edit")
    with platform.directory_unit() as uow:
        sub = _subscription_of(uow, tenant.id, sub_id)
        uow.subscriptions.delete(sub_id)
        uow.audit(principal.actor, "alerts.unsubscribe", tenant_id=tenant.id, before=_audited(sub))


def send_test_event(platform: Platform, principal: Principal, tenant_id: int, sub_id: int) -> dict[str, Any]:
    """Queue a ``test`` event for one subscription, whatever events it names. It goes out like
    every alert (the outbox, the sender loop, the same signature and retries), so a receiver
    that checks a test event checks the real ones. Returns what was queued."""
    tenant, _ = open_tenant(platform, principal, tenant_id, "bcp.enablement.edit")
    payload = {
        "tenant_id": tenant.id,
        "subscription_id": sub_id,
        "summary": f"test event for {tenant.name}, sent by {principal.actor}",
    }
    with platform.directory_unit() as uow:
        sub = _subscription_of(uow, tenant.id, sub_id)
        uow.alert([tenant.id], AlertEvent.TEST, payload, only=sub.id)
        (queued,) = uow.outbox.of_subscription(sub.id, 1)
        uow.audit(principal.actor, "alerts.test", tenant_id=tenant.id, after={"id": sub.id, "delivery": queued["id"]})
    return {"subscription_id": sub.id, "delivery_id": queued["id"], "event": AlertEvent.TEST, "status": "pending"}


def _subscription_of(uow: DirectoryUnit, tenant_id: int, sub_id: int) -> Subscription:
    sub = uow.subscriptions.get(sub_id)
    if sub is None or sub.tenant_id != tenant_id:
        raise NotFound(f"Alert subscription {sub_id} does not exist.", code="subscription_not_found")
    return sub


def _audited(sub: Subscription) -> dict[str, Any]:
    """What the audit log keeps of a removed subscription (never its secret). The audit's own
    shape: it stays what it is when the API's answer changes."""
    return {
        "id": sub.id,
        "tenant_id": sub.tenant_id,
        "kind": sub.kind,
        "target": sub.target,
        "events": sub.events,
        "created_at": sub.created_at.isoformat(),
    }


def deliver_due(platform: Platform) -> int:
    """Send what is due; returns how many were attempted."""
    with platform.directory_unit() as uow:
        items = uow.outbox.due()
        for item in items:
            uow.outbox.postpone(item.id, now() + SENDING_LEASE)
        subs = {i: uow.subscriptions.get(i) for i in {item.subscription_id for item in items}}
    for item in items:
        _deliver(platform, item, subs[item.subscription_id])
    return len(items)


def _deliver(platform: Platform, item: OutboxItem, sub: Subscription | None) -> None:
    settings = platform.settings
    error = detail = None
    try:
        if sub is None:
            error = detail = "not delivered: subscription deleted"
        elif sub.kind == "webhook":
            send_webhook(
                sub.target,
                sub.secret or "",
                item.event,
                item.id,
                item.payload,
                settings.alert_timeout_s,
                allow_private=settings.alert_allow_private_networks,
            )
        else:
            send_email(platform, sub.target, item.event, item.payload)
    except Exception as exc:  # any failure of the far end is retried, never raised into the loop
        error, detail = _tenant_error(exc), getattr(exc, "detail", None) or f"{type(exc).__name__}: {exc}"
    with platform.directory_unit() as uow:
        if error is None:
            uow.outbox.delivered(item.id)
            uow.after_commit(lambda: platform.metrics.alert_delivery("delivered"))
            return
        attempts = item.attempts + 1
        retry = attempts < settings.alert_max_attempts and sub is not None
        delay = min(settings.alert_retry_base_s * (2 ** (attempts - 1)), 3600)
        uow.outbox.failed_attempt(item.id, error, now() + timedelta(seconds=delay) if retry else None)
        uow.after_commit(lambda: platform.metrics.alert_delivery("retry" if retry else "gave_up"))
    log.warning("alert %s (%s) not delivered, attempt %s: %s", item.id, item.event, item.attempts + 1, detail)


def _tenant_error(exc: Exception) -> str:
    """What the tenant reads back: the class of the failure, never what answered or how."""
    if isinstance(exc, webhook_targets.NotDelivered):
        return str(exc)
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"not delivered: mail server answered {exc.smtp_code // 100}xx"
    if isinstance(exc, TimeoutError):
        return "not delivered: timed out"
    if isinstance(exc, (smtplib.SMTPException, OSError)):
        return "not delivered: connection failed"
    return "not delivered: internal error"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send_webhook(
    url: str,
    secret: str,
    event: str,
    delivery_id: int,
    payload: dict[str, Any],
    timeout_s: float,
    *,
    allow_private: bool,
) -> None:
    body = json.dumps(payload, sort_keys=True).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Lifeboat-Event": event,
        "X-Lifeboat-Delivery": str(delivery_id),
        "X-Lifeboat-Timestamp": stamp,
        "X-Lifeboat-Signature": signature(secret, stamp, body),
    }
    webhook_targets.post(url, body, headers, timeout_s=timeout_s, allow_private=allow_private)


def send_email(platform: Platform, to: str, event: str, payload: dict[str, Any]) -> None:
    settings = platform.settings
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = f"[lifeboat] {event}: {payload.get('summary', '')}".strip()
    message.set_content(json.dumps(payload, indent=2, sort_keys=True))
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.alert_timeout_s) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)

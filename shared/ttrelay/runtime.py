"""Builds each function's dependencies once per execution environment (cold start), from settings."""

from __future__ import annotations

import uuid
from functools import cache
from typing import TYPE_CHECKING

from ttrelay.config import collect_settings, forward_settings

if TYPE_CHECKING:  # each function imports only its own use case: the other's is cold-start time for nothing
    from ttrelay.collect.use_case import CollectDeps
    from ttrelay.forward.use_case import Forwarder


@cache
def collect_deps() -> CollectDeps:
    from ttrelay.adapters.secrets import json_secret, text_secret
    from ttrelay.adapters.sqs import SqsEventQueue
    from ttrelay.collect.cookie import SigningKeys
    from ttrelay.collect.senders import ApiKeyRing
    from ttrelay.collect.use_case import CollectDeps
    from ttrelay.consent.policy import load_policy, with_vendor

    settings = collect_settings()
    if settings.consent_policy_ssm_parameter:
        from ttrelay.adapters.ssm import parameter_text
        from ttrelay.consent.policy import parse_policy

        policy = parse_policy(parameter_text(settings.consent_policy_ssm_parameter))
    else:
        policy = load_policy(settings.policy_file or None)
    policy = with_vendor(policy, settings.tiktok_vendor_id)

    def origin_secret() -> str | None:
        return text_secret(settings.origin_verify_secret_arn) if settings.origin_verify_secret_arn else None

    validated: tuple[object, ApiKeyRing] = (None, ApiKeyRing())  # (the secret as cached, its key ring)

    def api_keys() -> ApiKeyRing:
        nonlocal validated
        # Read through the secret cache (5 minutes by default): a new or revoked key counts within that time.
        if not settings.api_keys_secret_arn:
            return ApiKeyRing()
        secret = json_secret(settings.api_keys_secret_arn, settings.api_keys_cache_seconds)
        # The cache hands back the same object until it refreshes: validate each version of the secret
        # once, not once per request (site keys come with browser traffic).
        if validated[0] is not secret:
            validated = (secret, ApiKeyRing.from_secret(secret))
        return validated[1]

    return CollectDeps(
        settings=settings,
        queue=SqsEventQueue(settings.events_queue_url),
        policy=policy,
        signing_keys=lambda: SigningKeys.from_secret(json_secret(settings.cookie_keys_secret_arn)),
        origin_secret=origin_secret,
        api_keys=api_keys,
    )


@cache
def forwarder() -> Forwarder:
    from ttrelay.adapters.dynamodb_dedup import DynamoDedupStore
    from ttrelay.adapters.events_api_client import HttpEventsApi
    from ttrelay.adapters.secrets import json_secret
    from ttrelay.adapters.sqs import SqsDeadLetters
    from ttrelay.forward.use_case import Forwarder

    settings = forward_settings()
    return Forwarder(
        dedup=DynamoDedupStore(
            settings.dedup_table_name,
            mode=settings.dedup_mode,
            lease_seconds=settings.claim_lease_seconds,
            ttl_seconds=settings.dedup_ttl_hours * 3600,
        ),
        events_api=HttpEventsApi(
            settings.events_api_base_url,
            access_tokens=lambda: json_secret(settings.access_token_secret_arn),
            timeout_seconds=settings.events_api_timeout_seconds,
        ),
        dead_letters=SqsDeadLetters(settings.events_dlq_url),
        # Unique per execution environment: a crashed worker's lease is never mistaken for ours.
        owner=f"fwd-{uuid.uuid4()}",
        test_event_code=settings.test_event_code,
        test_event_codes=settings.test_event_codes,
        max_events_per_request=settings.max_events_per_request,
        max_bisect_requests=settings.max_bisect_requests,
        max_receive_count=settings.max_receive_count,
        send_window_seconds=settings.claim_lease_seconds - settings.events_api_timeout_seconds - 1,
    )

"""/v1/api-keys: make a key (shown once), list keys, revoke one.

Keys are managed with a login or an identity token, never with a key: a
leaked key cannot make itself a successor. Answers that carry a key are
never cached.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from ingest_api.api_keys import service
from ingest_api.api_keys.format import display_prefix
from ingest_api.api_keys.models import ApiKey
from ingest_api.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, ApiKeysPublic
from ingest_api.http.deps import KeyManager, RuntimeDep
from ingest_api.http.responses import NO_STORE

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


def public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(
        {
            **{name: getattr(key, name) for name in ApiKeyPublic.model_fields if name != "prefix"},
            "prefix": display_prefix(key.id),
        }
    )


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_key(
    body: ApiKeyCreate, caller: KeyManager, runtime: RuntimeDep, response: Response
) -> ApiKeyCreated:
    """Make a key with scopes, a name and an expiry; its text is in this
    answer only (the service keeps a hash). Send it as `Authorization:
    Bearer <key>`."""
    response.headers.update(NO_STORE)
    key, text = await runtime.db.transaction(
        lambda session: service.create(session, runtime.settings, caller=caller, data=body)
    )
    return ApiKeyCreated(**public(key).model_dump(), key=text)


@router.get("", response_model=ApiKeysPublic)
async def list_keys(caller: KeyManager, runtime: RuntimeDep) -> ApiKeysPublic:
    """Your keys (every key, for an admin), newest first, without their secrets."""
    keys = await runtime.db.read(lambda session: service.list_visible(session, caller=caller))
    return ApiKeysPublic(data=[public(key) for key in keys])


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(key_id: uuid.UUID, caller: KeyManager, runtime: RuntimeDep) -> None:
    """Revoke a key: the next request with it is refused."""
    await runtime.db.transaction(
        lambda session: service.revoke(session, caller=caller, key_id=key_id)
    )

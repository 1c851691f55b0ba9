"""S3-compatible object storage (AWS S3, MinIO, Ceph RGW, Garage…) through boto3.

Write-once is enforced twice: object names are SHA-256 digests (different
bytes, different name) and ``put`` sends ``If-None-Match: *`` so the store
itself refuses to replace an existing object where it supports conditional
writes. For legal-grade immutability, enable S3 Object Lock (compliance
mode) on the bucket; see docs/evidence.md. boto3 is imported lazily: the
embedded default never needs it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from takedown.evidence.storage.base import (
    ObjectEntry,
    ObjectMissing,
    StoredObject,
    check_key,
    is_key,
    sha256_hex,
)


class S3Store:
    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "evidence/",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        if client is None:
            import boto3

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region or "us-east-1",
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
            )
        self.client = client

    def _key(self, sha256: str) -> str:
        check_key(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256}"

    def _is_missing(self, exc: Exception) -> bool:
        response = getattr(exc, "response", None) or {}
        code = str(response.get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound"}

    def put(self, data: bytes) -> StoredObject:
        digest = sha256_hex(data)
        key = self._key(digest)
        if self.exists(digest):
            return StoredObject(digest, len(data), False)
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                IfNoneMatch="*",
                ChecksumSHA256=checksum,
                Metadata={"sha256": digest},
            )
        except Exception as exc:
            response = getattr(exc, "response", None) or {}
            code = str(response.get("Error", {}).get("Code", ""))
            if code in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
                return StoredObject(digest, len(data), False)
            raise
        return StoredObject(digest, len(data), True)

    def get(self, sha256: str) -> bytes:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
        except Exception as exc:
            if self._is_missing(exc):
                raise ObjectMissing(
                    f"evidence object {sha256} is missing from s3://{self.bucket}"
                ) from None
            raise
        body: bytes = obj["Body"].read()
        return body

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except Exception as exc:
            if self._is_missing(exc):
                return False
            raise
        return True

    def delete(self, sha256: str) -> bool:
        if not self.exists(sha256):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self._key(sha256))
        return True

    def keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", []):
                yield str(obj["Key"]).rsplit("/", 1)[-1]

    def entries(self) -> Iterator[ObjectEntry]:
        """One LIST request per 1,000 objects: ``LastModified`` and ``Size`` come with it."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", []):
                name = str(obj["Key"]).rsplit("/", 1)[-1]
                if not is_key(name):
                    continue
                modified: dt.datetime = obj["LastModified"]
                if modified.tzinfo is None:
                    modified = modified.replace(tzinfo=dt.UTC)
                yield ObjectEntry(name, int(obj["Size"]), modified.astimezone(dt.UTC))

    def drop_temporaries(self, before: dt.datetime, *, dry_run: bool = False) -> int:
        return 0  # a PUT is atomic: S3 keeps no partial object

    def batch(self) -> AbstractContextManager[None]:
        return nullcontext()  # each PUT is durable when S3 answers

    def locate(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{self._key(sha256)}"

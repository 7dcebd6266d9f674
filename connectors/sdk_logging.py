"""Keep the SDKs' debug logging from recording credentials.

At DEBUG, botocore logs every response body (AssumeRole and GetRoleCredentials answers carry secret
keys and session tokens) and request headers; urllib3 and httplib2 log URLs. Whatever level k8or
runs at, these loggers stay at WARNING or above.
"""

from __future__ import annotations

import logging

SDK_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "httplib2", "googleapiclient", "github", "jira")


def quiet_sdk_loggers() -> None:
    """Raise the SDK loggers to WARNING (idempotent; never lowers a stricter level)."""
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)

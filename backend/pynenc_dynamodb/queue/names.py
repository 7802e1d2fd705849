"""Names of the broker's SQS queues, derived from the app id, and the checks of the queue
settings.

SQS queue names are 1 to 80 characters of ``A-Z a-z 0-9 _ -``, and a FIFO queue's name
ends in ``.fifo`` (counted in the 80). An app id may hold any text and be far longer, so
the name is a readable part (the prefix and the app id, other characters replaced by
``-``, cut to fit) followed by a digest of the exact app id: two app ids that read alike
once sanitized or cut (``a.b`` and ``a/b``) still get two queues, and one app id always
gets the same queue in every process. Every name leaves room for the dead-letter queue's
``-dlq``.
"""

import hashlib
import re
from urllib.parse import urlparse

from pynenc_dynamodb.errors import ConfigurationError

NAME_MAX = 80
FIFO_SUFFIX = ".fifo"
DLQ_MARK = "-dlq"
DIGEST_CHARS = 12
PREFIX_MAX = 40
# Room for "-<digest>", the DLQ's "-dlq" and ".fifo".
_READABLE_MAX = NAME_MAX - len(FIFO_SUFFIX) - len(DLQ_MARK) - 1 - DIGEST_CHARS
_INVALID = re.compile(r"[^A-Za-z0-9_-]+")
PREFIX = re.compile(rf"[A-Za-z0-9_-]{{1,{PREFIX_MAX}}}")
SETTINGS_HINT = "PYNENC__CONFIGBROKERSQS__"


def queue_name(prefix: str, app_id: str) -> str:
    """The FIFO queue of ``app_id``: ``<prefix>-<app id, sanitized>-<digest>.fifo``.

    :param prefix: the ``sqs_queue_name_prefix`` setting (checked by :func:`check_prefix`)
    :param app_id: the app's id, any text
    """
    check_prefix(prefix)
    digest = hashlib.sha256(app_id.encode("utf-8", "surrogatepass")).hexdigest()[:DIGEST_CHARS]
    readable = f"{prefix}-{_INVALID.sub('-', app_id)}"[:_READABLE_MAX].rstrip("-")
    return f"{readable}-{digest}{FIFO_SUFFIX}"


def dead_letter_queue_name(name: str) -> str:
    """The dead-letter queue of queue ``name`` (a FIFO queue's must be FIFO too)."""
    base = name.removesuffix(FIFO_SUFFIX)
    dlq = f"{base}{DLQ_MARK}{FIFO_SUFFIX}"
    if len(dlq) > NAME_MAX:
        raise ConfigurationError(
            f"Queue name {name!r} leaves no room for its dead-letter queue {dlq!r} "
            f"(at most {NAME_MAX} characters)."
        )
    return dlq


def check_prefix(prefix: str) -> None:
    """:raises ConfigurationError: unless ``prefix`` can start a queue name."""
    if not isinstance(prefix, str) or not PREFIX.fullmatch(prefix):
        raise ConfigurationError(
            f"Setting sqs_queue_name_prefix={prefix!r} must be 1 to {PREFIX_MAX} characters "
            f"of A-Z, a-z, 0-9, '_' and '-' ({SETTINGS_HINT}SQS_QUEUE_NAME_PREFIX)."
        )


def check_queue_url(url: str) -> None:
    """:raises ConfigurationError: unless ``url`` is the URL of a FIFO queue."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigurationError(
            f"Setting sqs_queue_url={url!r} is not a URL: give the queue's URL, e.g. the "
            "stack's QueueUrl output "
            "(https://sqs.eu-west-1.amazonaws.com/123456789012/pynenc-dev.fifo), "
            f"or leave it empty to use the app's own queue ({SETTINGS_HINT}SQS_QUEUE_URL)."
        )
    if not parsed.path.endswith(FIFO_SUFFIX):
        raise ConfigurationError(
            f"Setting sqs_queue_url={url!r} names a standard queue: the broker needs a FIFO "
            "queue (its name ends in '.fifo'): on AWS only FIFO queues keep the order "
            "and store each routing exactly once."
        )

"""The broker's SQS queue without I/O: queue names derived from the app id, and every
request as a plain dict (sent by :mod:`pynenc_dynamodb.aws.sqs`)."""

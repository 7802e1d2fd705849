"""Reaching AWS: the settings every client is built from, the one retry policy, and
the choke points to DynamoDB and S3."""

"""The embedded local tools: the DynamoDB and S3 endpoint on loopback, and the state
API served locally."""

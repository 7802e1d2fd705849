"""The state API: its route table, shared with the Lambda handler, and the SigV4 client
that stores through it."""

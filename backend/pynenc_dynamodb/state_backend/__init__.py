"""pynenc state backends over a store: the table directly, or the state API."""

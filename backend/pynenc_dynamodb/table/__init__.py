"""The single table: its keys and definition, request builders, its lifecycle, payload
encoding, and the app-scoped store over it."""

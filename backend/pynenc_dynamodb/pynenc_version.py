"""Which pynenc API generation is installed; nothing else is imported here.

mypy checks one adapter per environment: the Makefile passes ``--always-true PYNENC_01``
under pynenc 0.1 and ``--always-false PYNENC_01`` under 0.0.24.
"""

from importlib.util import find_spec

# The 0.1 series has the client data store component; 0.0.24 has not.
PYNENC_01 = find_spec("pynenc") is not None and find_spec("pynenc.client_data_store") is not None

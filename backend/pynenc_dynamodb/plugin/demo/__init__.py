"""The demo on pynenc 0.1: the whole stack on the embedded endpoint's AWS services."""

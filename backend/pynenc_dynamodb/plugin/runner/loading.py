"""The pynenc app of a worker function, named by an environment variable."""

import importlib
from typing import TYPE_CHECKING

from pynenc_dynamodb.errors import ConfigurationError

if TYPE_CHECKING:
    from pynenc.app import Pynenc

APP_VARIABLE = "PYNENC_APP"


def register_plugin() -> None:
    """Make the plugin's components and ``PynencBuilder().dynamodb(...)`` available without
    its entry points: a Lambda layer holds the package's modules, not its installed
    metadata, so pynenc cannot discover it there. Registering again is harmless."""
    from pynenc.builder import PynencBuilder

    import pynenc_dynamodb.plugin  # noqa: F401 - registers the component classes by name
    from pynenc_dynamodb.plugin.builder import DynamoDBBuilderPlugin

    if "dynamodb" not in PynencBuilder._plugin_methods:
        DynamoDBBuilderPlugin.register_builder_methods(PynencBuilder)


def load_app(spec: str) -> "Pynenc":
    """Import ``module.path:attribute`` (``attribute`` defaults to ``app``) and return the
    pynenc app it names.

    :param spec: the ``PYNENC_APP`` value, e.g. ``"myproject.tasks:app"``
    :raises ConfigurationError: naming the variable, for a spec that names no app
    """
    from pynenc.app import Pynenc

    module_name, _, attribute = spec.strip().partition(":")
    if not module_name:
        raise ConfigurationError(
            f"{APP_VARIABLE}={spec!r} must name the module of the app, as "
            "'myproject.tasks:app' (module path, then ':' and the app's name)."
        )
    register_plugin()
    module = importlib.import_module(module_name)
    app = getattr(module, attribute or "app", None)
    if not isinstance(app, Pynenc):
        raise ConfigurationError(
            f"{APP_VARIABLE}={spec!r}: {module_name}.{attribute or 'app'} is "
            f"{type(app).__name__}, not a pynenc app."
        )
    return app

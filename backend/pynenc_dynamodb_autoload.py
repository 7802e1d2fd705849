"""Makes ``state_backend_cls="DynamoDBStateBackend"`` work in any interpreter, including
the fresh ones pynenc's process runners spawn, without the app importing this package.

pynenc finds backends among the subclasses of ``BaseStateBackend`` that are already
imported. The ``pynenc_dynamodb_autoload.pth`` file installed with the package runs this
module at interpreter start; it only registers an import hook (nothing heavy is imported
then). Once ``pynenc.util.subclasses`` loads, its subclass lookup is wrapped to import
``pynenc_dynamodb`` the first time a state backend class is looked up by name. Once
``pynenc.context`` loads, ``set_current_runner`` (which a ``PersistentProcessRunner`` or
``MultiThreadRunner`` worker calls as it starts) is wrapped to warm the worker's
DynamoDB client up in the background (``pynenc_dynamodb.state_backend.warmup``).
Set ``PYNENC_DYNAMODB_NO_AUTOLOAD=1`` to switch both off.

pynenc 0.1 imports its plugins through the ``pynenc.plugins`` entry points instead: there
the hook wraps nothing.
"""

# Runs in every interpreter at start-up: import nothing that is not already loaded then
# (importlib.abc and typing alone would add ~20 ms to every Python process).
from __future__ import annotations

import importlib.machinery
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import ModuleType
    from typing import Any

TARGET = "pynenc.util.subclasses"
CONTEXT = "pynenc.context"
# Marks a wrapped ``set_current_runner``; pynenc_dynamodb.state_backend.warmup checks the same name.
MARKER = "_pynenc_dynamodb_warm_up"


def _warm_up(runner: Any) -> None:
    try:
        if runner.app.conf.state_backend_cls != "DynamoDBStateBackend":
            return
        from pynenc_dynamodb.state_backend.warmup import warm

        warm(runner.app)
    except Exception as exc:  # noqa: BLE001 - the worker's first request raises it again
        sys.stderr.write(f"pynenc-dynamodb warm-up skipped: {exc}\n")


def _wrap_context(module: ModuleType) -> None:
    """A pynenc worker announces itself with ``set_current_runner`` as it starts: build
    its DynamoDB client and check the table then, in the background (see warmup.py)."""
    original = getattr(module, "set_current_runner")  # noqa: B009
    if getattr(original, MARKER, False):
        return

    def set_current_runner(app_id: str, runner: Any) -> None:
        original(app_id, runner)
        import threading

        threading.Thread(target=_warm_up, args=(runner,), name=MARKER, daemon=True).start()

    setattr(set_current_runner, MARKER, True)
    setattr(module, "set_current_runner", set_current_runner)  # noqa: B010


def _wrap(module: ModuleType) -> None:
    original: Callable[[type], list[type]] = getattr(module, "get_all_subclasses")  # noqa: B009

    def get_all_subclasses(cls: type) -> list[type]:
        # Not skipped when the module is in sys.modules: another thread (a worker's
        # warm-up) may be importing it, and the import statement waits for it to finish.
        if cls.__name__ == "BaseStateBackend":
            try:
                import pynenc_dynamodb  # noqa: F401
            except ImportError as exc:
                # A broken install must not break apps that do not use this backend.
                sys.stderr.write(f"pynenc-dynamodb autoload skipped: {exc}\n")
        return original(cls)

    setattr(module, "get_all_subclasses", get_all_subclasses)  # noqa: B010


def _is_pynenc_01() -> bool:
    """Whether the pynenc being imported is the 0.1 series (it has ``client_data_store/``);
    a stat per path entry, since nothing may be imported at this point."""
    paths = getattr(sys.modules.get("pynenc"), "__path__", ())
    return any(os.path.isdir(os.path.join(path, "client_data_store")) for path in paths)


class _Loader:
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        if not _is_pynenc_01():
            WRAPPERS[module.__name__](module)


WRAPPERS: dict[str, Callable[[ModuleType], None]] = {TARGET: _wrap, CONTEXT: _wrap_context}


class _Finder:
    def __init__(self, pending: set[str]) -> None:
        self.pending = pending

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.pending:
            return None
        self.pending.discard(fullname)
        if not self.pending:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)  # type: ignore[assignment]
        return spec


def install() -> None:
    if os.environ.get("PYNENC_DYNAMODB_NO_AUTOLOAD", "").lower() in ("1", "true", "yes"):
        return
    pending = set()
    for name, wrap in WRAPPERS.items():
        if name in sys.modules:
            if not _is_pynenc_01():
                wrap(sys.modules[name])
        else:
            pending.add(name)
    if pending and not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder(pending))


install()

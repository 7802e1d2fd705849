"""The app-info registry as pynenc's state backends expose it, for both pynenc adapters.

``AppInfo`` lives in ``pynenc.app`` (0.0.24) or ``pynenc.app_info`` (0.1); it is imported
where used, since the store layer must load without pynenc.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pynenc_dynamodb.pynenc_version import PYNENC_01
from pynenc_dynamodb.store_contract import StateStore

if TYPE_CHECKING:
    if PYNENC_01:
        from pynenc.app_info import AppInfo
    else:
        from pynenc.app import AppInfo


def app_info_class() -> "type[AppInfo]":
    """pynenc's ``AppInfo``, from the module of the installed version."""
    if PYNENC_01:
        from pynenc.app_info import AppInfo
    else:
        from pynenc.app import AppInfo
    return AppInfo


def app_infos_by_id(bodies: Iterable[str]) -> "dict[str, AppInfo]":
    """The app-info registry entries, parsed, by app id."""
    AppInfo = app_info_class()
    infos = (AppInfo.from_json(body) for body in bodies)
    return {info.app_id: info for info in infos}


class AppRegistry:
    """``store_app_info`` and ``get_app_info`` over :attr:`store`; mixed in before
    ``BaseStateBackend``."""

    app: Any

    @property
    def store(self) -> StateStore:
        raise NotImplementedError

    def store_app_info(self, app_info: "AppInfo") -> None:
        self.store.put_app_info(app_info.app_id, app_info.to_json())

    def get_app_info(self) -> "AppInfo":
        """This app's registry entry.

        :raises ValueError: if the app is not registered (as pynenc's own backends)
        """
        body = self.store.get_app_info(self.app.app_id)
        if body is None:
            raise ValueError(f"No app info found for app_id '{self.app.app_id}'")
        return app_info_class().from_json(body)

"""``get_all_app_infos`` as pynenc's monitor calls it: on a backend instance, with that
backend's settings; on the class (pynenc's static API), with the environment's."""

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from pynenc.app import AppInfo

Owner = TypeVar("Owner")


class instance_or_class_method(Generic[Owner]):
    """A method that gets the instance when called on one, and ``None`` on the class.

    pynenc declares ``get_all_app_infos`` static, yet its monitor calls it on the app's
    backend instance: an app configured in code has its settings only there.

    :param method: called with the instance, or ``None``, and the class
    """

    def __init__(self, method: Callable[[Owner | None, type[Owner]], "dict[str, AppInfo]"]):
        self.method = method
        self.__doc__ = method.__doc__

    def __get__(
        self, instance: Owner | None, owner: type[Owner]
    ) -> Callable[[], "dict[str, AppInfo]"]:
        return partial(self.method, instance, owner)

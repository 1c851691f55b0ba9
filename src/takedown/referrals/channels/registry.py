"""Delivery channels by name; names are unique; plug-ins register the same way."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points

from takedown.referrals.channels.base import DeliveryChannel


class ChannelRegistry:
    def __init__(self, channels: Iterable[DeliveryChannel] = ()) -> None:
        self._by_name: dict[str, DeliveryChannel] = {}
        for c in channels:
            self.register(c)

    def register(self, channel: DeliveryChannel) -> None:
        if not isinstance(channel, DeliveryChannel):
            raise TypeError(f"{channel!r} does not implement DeliveryChannel")
        if channel.name in self._by_name:
            raise ValueError(f"a delivery channel named {channel.name!r} is already registered")
        self._by_name[channel.name] = channel

    def get(self, name: str) -> DeliveryChannel:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no delivery channel {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._by_name)


def plugin_channels() -> list[DeliveryChannel]:
    found: list[DeliveryChannel] = []
    for ep in entry_points(group="takedown.plugins"):
        obj = ep.load()
        candidate = obj() if isinstance(obj, type) else obj
        if isinstance(candidate, DeliveryChannel) and hasattr(candidate, "deliver"):
            found.append(candidate)
    return found

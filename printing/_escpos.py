"""The one place that imports python-escpos.

python-escpos 3.1 calls ``logging.basicConfig()`` when ``escpos.capabilities``
is imported (python-escpos issue #559, fixed only after 3.1). That installs a
stderr handler on the root logger, after which the application's own
``basicConfig`` silently does nothing and every record prints twice. We undo
exactly what the import added. If escpos was imported before this module,
the damage is already done and not ours to guess at.
"""

from __future__ import annotations

import logging

_root = logging.getLogger()
_handlers_before = list(_root.handlers)
_level_before = _root.level
try:
    from escpos import printer as escpos_printer
    from escpos.capabilities import Profile as _EscposProfile
    from escpos.constants import QR_ECLEVEL_M
    from escpos.exceptions import DeviceNotFoundError
finally:
    for _handler in list(_root.handlers):
        if _handler not in _handlers_before:
            _root.removeHandler(_handler)
    _root.setLevel(_level_before)

Dummy = escpos_printer.Dummy


def escpos_profile(width_dots: int) -> _EscposProfile:
    """A python-escpos profile that knows the paper width.

    Its stock "default" profile has width "Unknown", and ``image()`` then
    print()s a warning to stdout on every call.
    """
    profile = _EscposProfile(columns=width_dots // 12, features={
        "bitImageRaster": True, "qrCode": True, "paperFullCut": True, "paperPartCut": True,
    })
    # An instance attribute, so the class-wide profile data stays untouched.
    profile.profile_data = {
        **_EscposProfile.profile_data,
        "media": {"dpi": 203, "width": {"mm": width_dots // 8, "pixels": width_dots}},
    }
    return profile


__all__ = ["Dummy", "DeviceNotFoundError", "QR_ECLEVEL_M", "escpos_printer", "escpos_profile"]

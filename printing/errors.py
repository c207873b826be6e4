"""Errors raised by the printing package.

Each carries a stable ``code`` string that the API and the print queue can
return or branch on; the message is for people and may change.
"""

from __future__ import annotations


class PrintingError(Exception):
    """Base class: something about a label or a printer went wrong."""

    code = "printing_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class LabelInvalid(PrintingError):
    """The label value cannot be printed as given (bad code, naive time, unmasked phone...)."""

    code = "label_invalid"


class PrinterUrlInvalid(PrintingError):
    """The printer URL is malformed or names an unknown scheme or option."""

    code = "printer_url_invalid"


class PrinterBackendMissing(PrintingError):
    """The URL is fine but the library or system driver it needs is not installed."""

    code = "printer_backend_missing"


class PrinterOffline(PrintingError):
    """The printer could not be reached or the write failed; the job may be retried."""

    code = "printer_offline"


class FontMissing(PrintingError):
    """Raster text was needed but no CJK font file was found."""

    code = "printer_font_missing"

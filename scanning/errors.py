"""Errors of the scanning package, each with a code the API and CLI can return."""


class ScanError(Exception):
    code = "scan_error"


class SourceError(ScanError):
    """A camera, stream, video or image file that cannot be opened or read."""
    code = "scan_source_unavailable"

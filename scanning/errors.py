"""Errors of the scanning package, each with a code the API and CLI can return."""


class ScanError(Exception):
    code = "scan_error"


class SourceError(ScanError):
    """A camera, stream, video or image file that cannot be opened or read."""
    code = "scan_source_unavailable"


class ImageInvalid(ScanError):
    """Uploaded bytes that are not a whole image of a supported format."""
    code = "invalid_image"


class ImageTooLarge(ScanError):
    """An image with more pixels than a camera frame or phone photo needs."""
    code = "image_too_large"

"""Exception types. Every error names the file or value that caused it."""


class TfrawError(Exception):
    """Base class of all tfraw errors; the CLI turns these into one line and exit code 2."""


class InputError(TfrawError, ValueError):
    """Bad input data: corrupt or truncated file, wrong shape, NaN/Inf, unsupported CFA."""


class UnsupportedCFAError(InputError):
    """A colour filter array that is neither a 2x2 Bayer nor a 6x6 X-Trans-like RGB pattern."""


class MissingModelError(TfrawError, FileNotFoundError):
    """A model named by a pipeline is not found on disk."""

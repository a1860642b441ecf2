"""The two errors of a report run: the parameters do not fit, or the run failed."""


class ParameterError(ValueError):
    """The parameters file does not fit the notebooks' parameters cells."""


class ReportError(RuntimeError):
    """A report run failed: a notebook raised, or the run could not be set up."""

"""Reports: parameters files, the papermill runner and the run's index.

- :mod:`.parameters`: the parameters file and its check against the notebooks;
- :mod:`.runner`: the run itself (:func:`run_reports`), its folder swap and :class:`RunLock`;
- :mod:`.engine`: papermill's engine as the runner uses it (the notebook written when it ends);
- :mod:`.executed`: an executed notebook's errors, skipped sections and noise;
- :mod:`.pages`: a notebook's HTML pages and the check of one;
- :mod:`.index`: the run's ``index.html``;
- :mod:`.versions`: the package versions and lock file the manifest records;
- :mod:`.errors`: :class:`ParameterError` and :class:`ReportError`.
"""

from .errors import ParameterError, ReportError
from .executed import (
    STDERR_ERROR,
    WIDGET_STATE,
    WIDGET_VIEW,
    clean_outputs,
    find_errors,
    notebook_title,
    skipped_sections,
)
from .index import write_index
from .pages import check_report_html, export_html
from .parameters import (
    NOTEBOOK_PATTERN,
    SIMPLE_TYPES,
    check_values,
    declared_parameters,
    find_notebooks,
    load_params,
    plan_parameters,
)
from .runner import EXPORTS, FULL_DATABASE_ONLY, RunLock, run_reports
from .versions import (
    LOCK_FILE,
    PROJECT_ROOT,
    VERSIONED_PACKAGES,
    lock_file_info,
    locked_versions,
    package_versions,
)

__all__ = [
    "NOTEBOOK_PATTERN",
    "WIDGET_VIEW",
    "WIDGET_STATE",
    "VERSIONED_PACKAGES",
    "LOCK_FILE",
    "PROJECT_ROOT",
    "STDERR_ERROR",
    "SIMPLE_TYPES",
    "ParameterError",
    "ReportError",
    "find_notebooks",
    "load_params",
    "declared_parameters",
    "check_values",
    "plan_parameters",
    "find_errors",
    "skipped_sections",
    "clean_outputs",
    "notebook_title",
    "export_html",
    "check_report_html",
    "write_index",
    "package_versions",
    "locked_versions",
    "lock_file_info",
    "FULL_DATABASE_ONLY",
    "run_reports",
    "EXPORTS",
    "RunLock",
]

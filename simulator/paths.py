"""Where the project's data lives (scenarios, finding catalog, reports)."""

from __future__ import annotations

import os
from pathlib import Path

# The harness ships its data beside the package (an editable install or a clone); GDSIM_HOME
# points elsewhere for an installed copy.
PROJECT_ROOT = Path(os.environ.get("GDSIM_HOME") or Path(__file__).resolve().parent.parent)
SCENARIOS_DIR = PROJECT_ROOT / "scenarios"
FINDINGS_FIXTURES_DIR = PROJECT_ROOT / "fixtures" / "findings"
REPORTS_DIR = PROJECT_ROOT / "reports"

"""Headless Chromium for tests: a screenshot or the DOM after scripts ran."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def save_artifact(path: Path, name: str) -> None:
    """Copy a file to $VD_ARTIFACTS_DIR (CI keeps it) when that is set."""
    artifacts = os.environ.get("VD_ARTIFACTS_DIR")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(artifacts) / name)


def programs_tbody(dom: str) -> str:
    start = dom.index("<tbody>", dom.index('id="programs"'))
    return dom[start:dom.index("</tbody>", start)]

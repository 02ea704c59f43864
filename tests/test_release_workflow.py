"""The release workflow (.github/workflows/release.yml), checked here since it only runs on GitHub.

actionlint checks the syntax, the expressions, the runner labels, the action versions and the
`needs` graph (and the bash steps, when shellcheck is on PATH). The tests below check the facts
this project relies on: every OS builds and then runs the frozen app's selftest, and nothing is
attached to a release unless every build passed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
RELEASE = WORKFLOWS / "release.yml"
BUILD_JOBS = ("linux", "windows", "macos")


def actionlint() -> str | None:
    """The actionlint binary: the venv's (the dev extra installs it), else one on PATH."""
    beside_python = Path(sys.executable).parent / "actionlint"
    return str(beside_python) if beside_python.is_file() else shutil.which("actionlint")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(RELEASE.read_text(encoding="utf-8"))


def steps_text(job: dict) -> list[str]:
    """Each step as one string: its `uses`, its `run` script and its `with` inputs."""
    return [
        " ".join(filter(None, (step.get("uses"), step.get("run"), json.dumps(step.get("with", {})))))
        for step in job["steps"]
    ]


def index_of(steps: list[str], needle: str) -> int:
    found = [index for index, text in enumerate(steps) if needle in text]
    assert found, f"no step runs {needle!r}"
    return found[0]


def test_actionlint_finds_nothing_in_the_workflows():
    binary = actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (pip install -e '.[dev]' brings it)")
    files = sorted(str(path) for path in WORKFLOWS.glob("*.y*ml"))
    assert files
    result = subprocess.run(
        [binary, "-no-color", "-format", "{{json .}}", *files],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    problems = json.loads(result.stdout or "[]")
    assert not problems, "\n".join(f"{p['filepath']}:{p['line']}: {p['message']}" for p in problems)
    assert result.returncode == 0, result.stderr


def test_a_version_tag_or_a_manual_run_starts_it(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["tags"] == ["v*"]
    assert "workflow_dispatch" in triggers


def test_every_os_builds_then_selftests_the_frozen_app(workflow):
    jobs = workflow["jobs"]
    for name in BUILD_JOBS:
        steps = steps_text(jobs[name])
        build = index_of(steps, "packaging/build.py")
        selftest = index_of(steps, "packaging/run_selftest.py")
        assert build < selftest, f"{name}: the selftest runs before the build"
        # Every build bundles the one exported copy of the speaker models.
        assert "--speaker-models" in steps[build]
        assert "speaker-models" in jobs[name]["needs"]


def test_the_oses_and_architectures_built(workflow):
    jobs = workflow["jobs"]
    assert jobs["linux"]["container"]["image"] == "debian:bookworm"  # the glibc the .deb promises
    assert jobs["windows"]["runs-on"].startswith("windows-")
    matrix = jobs["macos"]["strategy"]["matrix"]["include"]
    assert {entry["arch"] for entry in matrix} == {"arm64", "x86_64"}
    assert all(entry["runner"].startswith("macos-") for entry in matrix)
    assert jobs["macos"]["runs-on"] == "${{ matrix.runner }}"
    assert jobs["macos"]["strategy"]["fail-fast"] is False  # one arch failing still shows the other


def test_the_selftests_run_on_what_users_get(workflow):
    jobs = workflow["jobs"]
    linux = steps_text(jobs["linux"])
    assert index_of(linux, "packaging/check_deb.sh") > index_of(linux, "packaging/build.py")
    windows = steps_text(jobs["windows"])[index_of(steps_text(jobs["windows"]), "run_selftest.py")]
    assert "/CURRENTUSER" in windows and "LOCALAPPDATA" in windows and "unins000.exe" in windows
    assert "_portaudiowpatch" in windows  # WASAPI loopback made it into the bundle
    macos = steps_text(jobs["macos"])
    assert "hdiutil attach" in macos[index_of(macos, "run_selftest.py")]
    assert "lipo -archs" in macos[index_of(macos, "NSMicrophoneUsageDescription")]


def test_the_release_waits_for_every_build_and_only_runs_for_a_tag(workflow):
    release = workflow["jobs"]["release"]
    assert set(release["needs"]) == set(BUILD_JOBS)
    assert release["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert release["permissions"] == {"contents": "write"}
    assert workflow["permissions"] == {"contents": "read"}  # write only where the release is made
    download = next(step for step in release["steps"] if "download-artifact" in step.get("uses", ""))
    assert download["with"]["pattern"] == "sayline-*"
    uploaded = [
        step["with"]["name"]
        for name in BUILD_JOBS
        for step in workflow["jobs"][name]["steps"]
        if "upload-artifact" in step.get("uses", "") and step["with"]["name"].startswith("sayline-")
    ]
    assert uploaded == ["sayline-linux", "sayline-windows", "sayline-macos-${{ matrix.arch }}"]


def test_actions_are_pinned_to_a_major_version(workflow):
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if "uses" in step:
                _, _, version = step["uses"].partition("@")
                assert version.startswith("v") and version[1:].isdigit(), f"{name}: {step['uses']}"

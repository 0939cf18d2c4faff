"""The README's "Deploying a kiosk" agrees with the units and the install script."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def deploy_section() -> str:
    start = README.index("\n## Deploying a kiosk\n")
    end = README.find("\n## ", start + 1)
    return README[start:] if end < 0 else README[start:end]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_paths_in_the_deploy_section_are_the_ones_installed():
    section = deploy_section()
    units = {name: (REPO / "systemd" / name).read_text() for name in
             ("kiosk.service", "kiosk-sync.service", "kiosk-central.service")}
    install = (REPO / "systemd/install.sh").read_text()
    for path in ("/var/lib/library-kiosk/kiosk.db", "/etc/library-kiosk/kiosk.toml"):
        assert path in section
        assert path in units["kiosk.service"]
    assert "/var/lib/library-kiosk-central/central.db" in units["kiosk-central.service"]
    assert "/var/lib/library-kiosk-central/central.db" in section
    assert "/etc/library-kiosk/central.env" in units["kiosk-central.service"]
    assert "/etc/library-kiosk/central.env" in section
    assert "HOME_DIR=/opt/library-kiosk" in install and "CURRENT=$HOME_DIR/current" in install
    for path in ("/opt/library-kiosk/current", "/opt/library-kiosk/versions", "/opt/library-kiosk/previous"):
        assert path in section, path
    for package in ("fonts-wqy-microhei", "python3-venv", "spi-tools", "rpi-lgpio", "mfrc522", "python3-lgpio",
                    "python3-rpi-lgpio", "python3-spidev", "libgbm1", "libegl1", "libgles2", "libdrm2",
                    "libgl1-mesa-dri", "swig"):
        assert package in install and package in section, package


def test_links_in_the_deploy_section_lead_somewhere():
    anchors = {slug(h) for h in re.findall(r"(?m)^#{1,6} (.+)$", README)}
    links = re.findall(r"\]\(#([^)]+)\)", deploy_section())
    assert links
    assert [link for link in links if link not in anchors] == []


def test_the_deploy_section_covers_what_a_deployer_needs():
    headings = re.findall(r"(?m)^### (.+)$", deploy_section())
    for needed in ("Parts", "Connecting the parts", "Installing", "Adding a kiosk to the central store",
                   "Enrolling the first cards and books", "Checking the wiring", "Reading the logs",
                   "Power cuts and SD cards", "No real-time clock"):
        assert needed in headings
    section = deploy_section()
    for command in ("kiosk hw-test", "kiosk-central add-kiosk", "journalctl -u kiosk",
                    "/run/systemd/timesync/synchronized", "synchronous=FULL", "enable_overlayfs"):
        assert command in section, command


def test_ci_runs_the_tests_and_the_slow_checks_the_readme_names():
    run = (REPO / ".ci/run").read_text()
    steps = [line.strip().split(" ")[:2] for line in run.splitlines() if line.strip().startswith("make ")]
    assert [" ".join(step) for step in steps] == ["make .venv/.installed", "make pi-check", "make test",
                                                  "make pg-check"]
    assert 'wait "$pi"' in run and 'exit "$status"' in run  # the background pi check's failure fails CI too
    # What the slow checks need, from the packages CI installs.
    assert {"debootstrap", "qemu-user-static", "binfmt-support", "postgresql"} <= set(
        (REPO / "docs/test-packages.txt").read_text().split())
    assert "which CI runs beside" in " ".join(README.split())
    assert "CI runs it beside `make test`, in `.ci/run`" in " ".join(deploy_section().split())
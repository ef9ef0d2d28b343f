"""A private X display (Xvfb) for running the Tkinter window headless, and pictures of it.

Used by the GUI tests and by ``scripts/screenshot_gui.py``; the product never
needs it (a user without a screen runs ``xvfb-run sketch2color gui``).

Xvfb chooses a free display number itself (``-displayfd``), so several test
runs or helpers on one machine never fight over ``:99``; the server is
stopped by its own process id when the context ends.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from sketch2color.errors import Sketch2ColorError

START_TIMEOUT_S = 15.0


class DisplayUnavailable(Sketch2ColorError):
    """Xvfb is not installed or did not start."""


def xvfb_installed() -> bool:
    return shutil.which("Xvfb") is not None


@contextlib.contextmanager
def virtual_display(width: int = 1280, height: int = 800) -> Iterator[str]:
    """Start Xvfb and yield its display name (``":N"``) for ``tk.Tk(screenName=...)``."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise DisplayUnavailable("Xvfb is not installed (Debian/Ubuntu package: xvfb)")
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        number = _read_display_number(read_fd, process)
        yield f":{number}"
    finally:
        os.close(read_fd)
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_display_number(read_fd: int, process: subprocess.Popen) -> str:
    received = b""
    while not received.endswith(b"\n"):
        ready, _, _ = select.select([read_fd], [], [], START_TIMEOUT_S)
        chunk = os.read(read_fd, 64) if ready else b""
        if not chunk:
            raise DisplayUnavailable(
                f"Xvfb did not start within {START_TIMEOUT_S:.0f} s (exit status {process.poll()})"
            )
        received += chunk
    return received.decode().strip()


def capture_window(root, out: Path, screen: str) -> Path:
    """Save what the Tk window ``root`` shows on X display ``screen`` as a PNG."""
    from PIL import ImageGrab

    from sketch2color.atomic import atomic_path

    root.update()
    x, y = root.winfo_rootx(), root.winfo_rooty()
    image = ImageGrab.grab(bbox=(x, y, x + root.winfo_width(), y + root.winfo_height()), xdisplay=screen)
    with atomic_path(out) as tmp:
        image.save(tmp, format="PNG")
    return out


def xdotool_installed() -> bool:
    return shutil.which("xdotool") is not None


class Pointer:
    """Real X input on a display through xdotool (XTEST): the window gets the events a mouse and a
    keyboard would send, not Tk's own generated ones. After each gesture the Tk loop runs, so the
    window has handled it when the call returns."""

    def __init__(self, screen: str, root, settle_s: float = 0.15):
        self.screen, self.root, self.settle_s = screen, root, settle_s

    def run(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": self.screen}, check=True, timeout=30)
        self.settle()

    def settle(self, seconds: float | None = None) -> None:
        import time

        deadline = time.monotonic() + (self.settle_s if seconds is None else seconds)
        while time.monotonic() < deadline:
            self.root.update()
            time.sleep(0.01)
        self.root.update()

    @staticmethod
    def at(widget, x: float, y: float) -> tuple[str, str]:
        """Screen coordinates of point (x, y) of ``widget``."""
        return str(round(widget.winfo_rootx() + x)), str(round(widget.winfo_rooty() + y))

    def move(self, widget, x: float, y: float) -> None:
        self.run("mousemove", *self.at(widget, x, y))

    def click(self, widget, x: float, y: float, button: int = 1, modifier: str | None = None) -> None:
        args = ["mousemove", *self.at(widget, x, y)]
        if modifier:
            args += ["keydown", modifier]
        args += ["click", str(button)]
        if modifier:
            args += ["keyup", modifier]
        self.run(*args)

    def drag(
        self, widget, points: list[tuple[float, float]], button: int = 1, hold: str | None = None
    ) -> None:
        """Press at the first point, move through the others, release at the last (holding a key)."""
        args = ["mousemove", *self.at(widget, *points[0])]
        if hold:
            args += ["keydown", hold]
        args += ["mousedown", str(button)]
        for point in points[1:]:
            args += ["mousemove", *self.at(widget, *point)]
        args += ["mouseup", str(button)]
        if hold:
            args += ["keyup", hold]
        self.run(*args)

    def key(self, *keys: str) -> None:
        self.run("key", *keys)

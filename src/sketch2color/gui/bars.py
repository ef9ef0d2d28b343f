"""The window's bars: the toolbar, the status bar that carries every message, and the bar that offers a
sketch's saved hints when it is opened."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

ERROR_COLOR = "#b00020"
TEXT_COLOR = "#202020"
QUIET_COLOR = "#606060"


class Toolbar(ttk.Frame):
    def __init__(
        self, master: tk.Misc, commands: dict[str, Callable[[], None]], on_stretched: Callable[[], None]
    ):
        super().__init__(master)
        self.buttons: dict[str, ttk.Button] = {}
        for label, command in commands.items():
            self.buttons[label] = ttk.Button(self, text=label, command=command)
            self.buttons[label].pack(side=tk.LEFT, padx=(0, 4))
        self.stretched = tk.BooleanVar(master=self, value=False)
        self.stretched_toggle = ttk.Checkbutton(
            self, text="Stretched output", variable=self.stretched, command=on_stretched
        )
        self.stretched_toggle.pack(side=tk.LEFT, padx=(8, 0))


class StatusBar(ttk.Frame):
    """A message (red for an error), the zoom, the model, and a progress bar while work is in flight."""

    def __init__(self, master: tk.Misc):
        super().__init__(master)
        self.message = tk.StringVar(master=self)
        self.label = tk.Label(self, textvariable=self.message, anchor=tk.W, fg=TEXT_COLOR)
        self.label.pack(side=tk.LEFT, fill=tk.X, expand=True)
        self.progress = ttk.Progressbar(self, mode="determinate", length=90)
        self.progress.pack(side=tk.RIGHT)
        self.model = tk.Label(self, text="model: (loading)", anchor=tk.E, fg=QUIET_COLOR)
        self.model.pack(side=tk.RIGHT, padx=8)
        self.zoom = tk.Label(self, text="", anchor=tk.E, fg=QUIET_COLOR)
        self.zoom.pack(side=tk.RIGHT, padx=8)

    def say(self, message: str, error: bool = False) -> None:
        self.message.set(message)
        self.label.configure(fg=ERROR_COLOR if error else TEXT_COLOR)

    def busy(self, busy: bool) -> None:
        if busy:
            self.progress.configure(mode="indeterminate")
            self.progress.start(12)
        else:
            self.progress.stop()
            self.progress.configure(mode="determinate", value=0)  # empty, not a frozen block


class OfferBar(ttk.Frame):
    """ "<sketch> has saved hints: <file>  [Load them] [Not now]", shown above the views when it applies."""

    def __init__(self, master: tk.Misc, on_load: Callable[[], object]):
        super().__init__(master)
        self.text = tk.StringVar(master=self)
        ttk.Label(self, textvariable=self.text).pack(side=tk.LEFT)
        self.load_button = ttk.Button(self, text="Load them", command=on_load)
        self.load_button.pack(side=tk.LEFT, padx=4)
        ttk.Button(self, text="Not now", command=self.hide).pack(side=tk.LEFT)

    def offer(self, text: str) -> None:
        self.text.set(text)
        self.pack(side=tk.TOP, fill=tk.X, pady=(0, 4))

    def hide(self) -> None:
        self.pack_forget()

"""Dialogs shared by every screen (pygame_gui windows): errors and messages, confirmations, and a
save picker for loading or saving a game.

Dialogs are modal: while one is open the screen below gets no input (the App checks
:func:`modal_open`), Esc closes the top one and Enter confirms it.

Callbacks (a confirmation's ``on_confirm``, the picker's ``on_pick``) run from
:func:`handle_event`, which the App calls for every event of its loop, never from inside
pygame_gui's own event processing: a callback may switch screens (and so clear the UI) safely.
"""

from __future__ import annotations

import datetime as dt
import html
import weakref
from collections.abc import Callable
from pathlib import Path

import pygame
import pygame_gui
from pygame_gui.core import ObjectID
from pygame_gui.elements import UIButton, UILabel, UISelectionList, UITextEntryLine, UIWindow
from pygame_gui.windows import UIConfirmationDialog, UIMessageWindow

from .session import SaveInfo, save_infos

_MODALS: weakref.WeakSet[UIWindow] = weakref.WeakSet()


def markup(text: str) -> str:
    """Plain text as pygame_gui's HTML-like markup: escaped, line breaks kept."""
    return html.escape(text).replace("\n", "<br>")


def _centred(manager: pygame_gui.UIManager, size: tuple[int, int]) -> pygame.Rect:
    w, h = manager.window_resolution
    width, height = min(size[0], w - 40), min(size[1], h - 40)
    return pygame.Rect((w - width) // 2, (h - height) // 2, width, height)


def _modal(window: UIWindow) -> UIWindow:
    window.set_blocking(True)
    _MODALS.add(window)
    return window


def _height_for(message: str, width: int, base: int) -> int:
    """A window height that fits the message without scrolling when it is short."""
    chars_per_line = max(20, (width - 40) // 8)
    lines = sum(1 + len(part) // chars_per_line for part in message.split("\n"))
    return base + 20 * min(lines, 18)


def _message_window(manager: pygame_gui.UIManager, title: str, message: str, width: int,
                    object_id: str) -> UIMessageWindow:
    rect = _centred(manager, (width, _height_for(message, width, 130)))
    window = UIMessageWindow(rect, markup(message), manager, window_title=title,
                             object_id=ObjectID(object_id, "@dialog"))
    return _modal(window)


def show_error(manager: pygame_gui.UIManager, title: str, message: str) -> UIMessageWindow:
    """A modal error message with a Dismiss button (Enter or Esc closes it)."""
    return _message_window(manager, title, message, 560, "#error_window")


def show_message(manager: pygame_gui.UIManager, title: str, message: str) -> UIMessageWindow:
    """A modal information message (same as an error, without the error styling)."""
    return _message_window(manager, title, message, 520, "#message_window")


class ConfirmDialog(UIConfirmationDialog):
    """A yes/no question; `on_confirm` runs when the player confirms (button or Enter)."""

    def __init__(self, manager: pygame_gui.UIManager, title: str, message: str, on_confirm: Callable[[], None],
                 *, action: str = "OK"):
        width = 460
        height = max(200, _height_for(message, width, 150))  # pygame_gui's least height for this dialog
        super().__init__(_centred(manager, (width, height)), markup(message), manager,
                         window_title=title, action_short_name=action, blocking=True,
                         object_id=ObjectID("#confirm_dialog", "@dialog"))
        self.on_confirm = on_confirm
        _MODALS.add(self)


def confirm(manager: pygame_gui.UIManager, title: str, message: str, on_confirm: Callable[[], None], *,
            action: str = "OK") -> ConfirmDialog:
    return ConfirmDialog(manager, title, message, on_confirm, action=action)


def describe_save(info: SaveInfo) -> str:
    """One line of the save list: file, scenario, turn and date, when it was saved."""
    if info.error:
        return f"{info.path.name}: {info.error}"
    when = ""
    if info.saved_at:
        try:
            when = dt.datetime.fromisoformat(info.saved_at).astimezone().strftime("saved %d %b %Y %H:%M")
        except ValueError:
            when = f"saved {info.saved_at}"
    date = info.date
    try:
        date = dt.date.fromisoformat(info.date).strftime("%d %b %Y").lstrip("0")
    except ValueError:
        pass
    state = "game over" if info.over else f"turn {info.turn}, {date}"
    return f"{info.path.name}  ·  {info.scenario}  ·  {state}  ·  {when}".rstrip(" ·")


class SavePicker(UIWindow):
    """Pick a save to load, or a file name to save to.

    The list shows the saves of `folder` (newest first) with their scenario, turn and date; the
    entry line takes a file name in that folder or any path. ``on_pick(path)`` runs on Load/Save
    (or Enter, or a double click on a save)."""

    def __init__(self, manager: pygame_gui.UIManager, on_pick: Callable[[Path], None], *, mode: str = "load",
                 folder: Path | None = None, title: str | None = None):
        if mode not in ("load", "save"):
            raise ValueError(f"mode must be 'load' or 'save', not {mode!r}")
        rect = _centred(manager, (720, 480))
        super().__init__(rect, manager, window_display_title=title or ("Load game" if mode == "load" else "Save game"),
                         object_id=ObjectID("#save_picker", "@dialog"), resizable=False)
        self.mode = mode
        self.on_pick = on_pick
        self.infos = save_infos(folder)
        self.folder = folder
        inner_w, inner_h = self.get_container().get_size()
        pad = 12
        self.lines = [describe_save(i) for i in self.infos]
        self.by_line = dict(zip(self.lines, self.infos))
        UILabel(pygame.Rect(pad, pad, inner_w - 2 * pad, 22),
                "Saves (newest first):" if self.infos else "No saves yet in the saves folder.",
                manager, container=self, object_id=ObjectID("#dialog_label", "@small"))
        list_h = inner_h - 3 * pad - 22 - 34 - 40
        self.list = UISelectionList(pygame.Rect(pad, pad + 26, inner_w - 2 * pad, list_h), self.lines, manager,
                                    container=self, object_id=ObjectID("#save_list", None))
        y = pad + 26 + list_h + pad
        UILabel(pygame.Rect(pad, y, 90, 30), "File:", manager, container=self)
        default = "" if mode == "load" else "game.json"
        self.entry = UITextEntryLine(pygame.Rect(pad + 90, y, inner_w - 2 * pad - 90, 30), manager, container=self,
                                     initial_text=default,
                                     placeholder_text="a save in the list, a file name or a path")
        y += 30 + pad
        bw = 120
        self.cancel_button = UIButton(pygame.Rect(inner_w - pad - bw, y, bw, 32), "Cancel", manager, container=self)
        self.ok_button = UIButton(pygame.Rect(inner_w - 2 * (pad + bw), y, bw, 32),
                                  "Load" if mode == "load" else "Save", manager, container=self,
                                  object_id=ObjectID("#ok_button", "@primary"))
        _modal(self)
        _PICKERS.add(self)

    def chosen_path(self) -> Path | None:
        """The path the picker would use now: the entry's text (relative to the saves folder) or
        the selected save."""
        text = self.entry.get_text().strip()
        if text:
            path = Path(text).expanduser()
            if not path.is_absolute():
                from .session import saves_dir

                path = (self.folder or saves_dir()) / path
            if self.mode == "save" and path.suffix != ".json":
                path = path.with_suffix(".json")
            return path
        line = self.list.get_single_selection()
        return self.by_line[line].path if line in self.by_line else None

    def handle(self, event: pygame.event.Event) -> bool:
        """Our part of the App's event loop (see the module's docstring)."""
        if event.type == pygame_gui.UI_SELECTION_LIST_NEW_SELECTION and event.ui_element is self.list:
            info = self.by_line.get(event.text)
            if info is not None:
                self.entry.set_text(info.path.name)
            return True
        if event.type == pygame_gui.UI_SELECTION_LIST_DOUBLE_CLICKED_SELECTION and event.ui_element is self.list:
            self._pick()
            return True
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            if event.ui_element is self.ok_button:
                self._pick()
                return True
            if event.ui_element is self.cancel_button:
                self.kill()
                return True
        if event.type == pygame_gui.UI_TEXT_ENTRY_FINISHED and event.ui_element is self.entry:
            self._pick()
            return True
        return False

    def confirm_default(self) -> None:
        self._pick()

    def _pick(self) -> None:
        path = self.chosen_path()
        if path is None:
            return
        self.kill()
        self.on_pick(path)


_PICKERS: weakref.WeakSet[SavePicker] = weakref.WeakSet()


def _alive(window: UIWindow) -> bool:
    return window.alive()


def modal_open(manager: pygame_gui.UIManager | None = None) -> bool:
    """Is a dialog open (on `manager`, or on any manager)?"""
    return top_modal(manager) is not None


def top_modal(manager: pygame_gui.UIManager | None = None) -> UIWindow | None:
    """The front-most open dialog, or None."""
    alive = [w for w in _MODALS if _alive(w) and (manager is None or w.ui_manager is manager)]
    if not alive:
        return None
    return max(alive, key=lambda w: w.get_top_layer())


def handle_event(event: pygame.event.Event, manager: pygame_gui.UIManager | None = None) -> bool:
    """Run the dialogs' callbacks for an event of the App's loop and handle Enter/Esc on the top
    dialog; True when the event was theirs."""
    if event.type == pygame_gui.UI_CONFIRMATION_DIALOG_CONFIRMED and isinstance(event.ui_element, ConfirmDialog):
        event.ui_element.on_confirm()
        return True
    for picker in list(_PICKERS):
        if picker.alive() and picker.handle(event):
            return True
    if event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_RETURN, pygame.K_KP_ENTER):
        top = top_modal(manager)
        if top is None:
            return False
        if event.key == pygame.K_ESCAPE:
            top.kill()
        elif isinstance(top, SavePicker):
            if not top.entry.is_focused:  # the entry sends its own 'finished' event on Enter
                top.confirm_default()
        elif isinstance(top, ConfirmDialog):
            top.kill()
            top.on_confirm()
        else:
            top.kill()
        return True
    return False


def close_all(manager: pygame_gui.UIManager | None = None) -> None:
    for w in list(_MODALS):
        if _alive(w) and (manager is None or w.ui_manager is manager):
            w.kill()


__all__ = ["show_error", "show_message", "confirm", "ConfirmDialog", "SavePicker", "describe_save",
           "handle_event", "modal_open", "top_modal", "close_all", "markup"]

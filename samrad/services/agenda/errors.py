"""What can go wrong with an agenda, as exceptions the pages turn into messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from samrad.services import cases


class AgendaRefused(Exception):
    """A change the rules do not allow; ``field`` names the form field the message belongs to."""

    status = 409

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class AgendaChanged(AgendaRefused):
    """The agenda changed since the page was built (another coordinator, another tab)."""

    def __init__(self):
        super().__init__(
            _l(
                "Someone else changed this agenda while you were working on it. Nothing of yours was saved. "
                "The agenda below is the current one; make your change again if it is still needed."
            )
        )


class ConfirmationNeeded(AgendaRefused):
    """Publishing an empty or overflowing agenda needs an explicit confirmation."""

    status = 200

    def __init__(self, empty: bool, overflow: int):
        super().__init__(_l("Please confirm."))
        self.empty = empty
        self.overflow = overflow


class AdviceRefused(AgendaRefused):
    """The advice still contains something that identifies a person, or its warnings are unconfirmed."""

    status = 400

    def __init__(self, guard: cases.GuardResult, *, blocking: bool):
        super().__init__(
            _l("Remove what could identify a person before saving.")
            if blocking
            else _l("Check the highlighted words and confirm that they do not identify anyone."),
            field="advice",
        )
        self.guard = guard
        self.blocking = blocking

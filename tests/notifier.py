"""A notifier plug-in as an operator's SMS or e-mail sender would be, for the reminder
tests: LOCKER_NOTIFIER=tests.notifier:Collector. It keeps what it was handed."""

from __future__ import annotations

from locker.reminders import Reminder

SENT: list[Reminder] = []


class Collector:
    def send(self, reminder: Reminder) -> None:
        SENT.append(reminder)

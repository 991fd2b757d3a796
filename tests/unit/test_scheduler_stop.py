"""A stop signal never raises inside a lock-taking wait (mailroom/scheduler.py StopEvent).

An exception raised by a signal handler inside ``threading.Event.wait`` can land
after the event's condition lock was taken and before the code that releases it;
the job thread's ``Event.set()`` then blocks for ever and the run never stops. So
the handler only sets the flag there, and the wait notices it on its next slice."""

from __future__ import annotations

import os
import signal
import threading
import traceback
from collections.abc import Iterator

import pytest

from mailroom.scheduler import StopEvent, Stopped


def _raised_in(exc: BaseException) -> str:
    return traceback.extract_tb(exc.__traceback__)[-1].name


@pytest.fixture
def stop_on_usr2() -> Iterator[StopEvent]:
    stop = StopEvent()
    previous = signal.signal(signal.SIGUSR2, stop.handle_signal)
    yield stop
    signal.signal(signal.SIGUSR2, previous)


def _signal_soon() -> None:
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR2)).start()


def test_a_signal_during_wait_for_is_noticed_by_the_wait(stop_on_usr2: StopEvent) -> None:
    event = threading.Event()
    _signal_soon()
    with pytest.raises(Stopped) as raised:
        stop_on_usr2.wait_for(event)
    assert _raised_in(raised.value) == "wait_for"
    # The event's lock is free: another thread can still set it.
    setter = threading.Thread(target=event.set)
    setter.start()
    setter.join(timeout=5)
    assert not setter.is_alive() and event.is_set()


def test_a_signal_during_sleep_is_noticed_by_the_sleep(stop_on_usr2: StopEvent) -> None:
    _signal_soon()
    with pytest.raises(Stopped) as raised:
        stop_on_usr2.sleep(30)
    assert _raised_in(raised.value) == "sleep"


def test_a_signal_inside_interruptible_ends_a_blocking_wait_at_once(stop_on_usr2: StopEvent) -> None:
    blocker = threading.Event()  # a stand-in for IMAP IDLE's blocking read: never set
    _signal_soon()
    with pytest.raises(Stopped) as raised, stop_on_usr2.interruptible():
        blocker.wait(30)
    assert _raised_in(raised.value) == "handle_signal"
    assert stop_on_usr2.is_set()

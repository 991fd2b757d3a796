"""The Jinja sandbox letter templates run in, with a time and size budget.

Jinja's ``SandboxedEnvironment`` stops templates reaching Python internals, but
not from using the machine: ``{{ ("x"*3000000000)|length }}`` allocated 3 GB and
nested loops ran without end. A landlord template is code from outside the
program, so every render here has a budget (``Budget``):

- **time**: ``MAX_SECONDS`` per letter, checked at every loop iteration, call,
  filter, operator and output;
- **loops**: ``MAX_ITERATIONS`` loop iterations per letter, ``range`` at most
  ``MAX_RANGE`` items;
- **size**: no string or list built by ``*``, ``+``, ``~``, ``replace`` or
  ``join`` beyond ``MAX_VALUE_CHARS``, checked *before* it is built; no
  integer beyond ``MAX_INT_BITS`` bits; integer arguments to filters and string
  methods (``center(3000000000)``) at most ``MAX_INT_ARG``; format widths
  (``"%999999999s"``) refused; everything printed or captured at most
  ``MAX_OUTPUT_CHARS`` per letter.

Together these bound memory to a small multiple of ``MAX_OUTPUT_CHARS``
without a helper process (a render takes milliseconds; a process per letter
would cost more than the letter). Going over raises ``BudgetExceeded``.
"""

from __future__ import annotations

import functools
import re
import time
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.runtime import Context, markup_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

MAX_SECONDS = 5.0
MAX_ITERATIONS = 100_000
MAX_RANGE = 10_000
MAX_VALUE_CHARS = 1_000_000
MAX_OUTPUT_CHARS = 10_000_000
MAX_INT_ARG = 100_000
MAX_INT_BITS = 10_000
_MAX_PAD_ARG = 100  # indent/wordwrap strings: repeated once per line

_LOOP_FILTER = "_mailroom_budget_loop"
_CONCAT_FILTER = "_mailroom_budget_concat"
# A width or precision of six digits or more, or one taken from the arguments (*).
_BIG_FORMAT_WIDTH = re.compile(r"%[#0 +-]*(?:\d{6,}|\*|\.\*|\d*\.\d{6,})|\{[^{}]*:[^{}]*\d{6,}[^{}]*\}")


class BudgetExceeded(jinja2.TemplateError):
    """A template went over its time or size budget. The message is one line."""


class Budget:
    """What one render may still spend."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = MAX_SECONDS if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds
        self.iterations = 0
        self.output = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"rendering took longer than {self.seconds:g} s")

    def iterate(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS:
            raise BudgetExceeded(f"loops ran more than {MAX_ITERATIONS:,} times")
        self.tick()

    def emit(self, chars: int) -> None:
        self.output += chars
        if self.output > MAX_OUTPUT_CHARS:
            raise BudgetExceeded(f"output exceeds {MAX_OUTPUT_CHARS:,} characters")
        self.tick()


_CURRENT: ContextVar[Budget | None] = ContextVar("letter_template_budget", default=None)


@contextmanager
def budget(seconds: float | None = None) -> Iterator[Budget]:
    """Make a fresh budget the current one for renders in this thread/task."""
    spent = Budget(seconds)
    token = _CURRENT.set(spent)
    try:
        yield spent
    finally:
        _CURRENT.reset(token)


def current_budget() -> Budget | None:
    return _CURRENT.get()


def _tick() -> None:
    # Outside a render (Jinja folding constants while compiling) only the size
    # checks apply: they are what keeps compiling bounded.
    current = _CURRENT.get()
    if current is not None:
        current.tick()


def _check_size(size: int, what: str) -> None:
    if size > MAX_VALUE_CHARS:
        raise BudgetExceeded(f"{what} would make a value of {size:,} items (at most {MAX_VALUE_CHARS:,})")


def _check_int_args(args: Iterable[Any], what: str) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_INT_ARG:
            raise BudgetExceeded(f"{what}: argument {arg:,} is over {MAX_INT_ARG:,}")


def _check_format(template: Any, what: str) -> None:
    if isinstance(template, str) and _BIG_FORMAT_WIDTH.search(template):
        raise BudgetExceeded(f"{what}: format width or precision too large")


def _projected_replace(text: str, old: Any, new: Any, count: Any = -1) -> int:
    if not (isinstance(old, str) and isinstance(new, str)):
        return len(text)
    hits = text.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(len(new) - len(old), 0)


def _projected_join(separator: str, items: Any) -> int:
    if not isinstance(items, list | tuple):
        return 0  # an iterator: checked after joining (its items are budgeted as they are made)
    return sum(len(item) if isinstance(item, str) else 0 for item in items) + len(separator) * len(items)


def _budget_range(*args: int) -> range:
    items = range(*args)
    if len(items) > MAX_RANGE:
        raise BudgetExceeded(f"range of {len(items):,} items (at most {MAX_RANGE:,})")
    return items


def _budget_loop(iterable: Any) -> Iterator[Any]:
    current = _CURRENT.get()
    for item in iterable:
        if current is not None:
            current.iterate()
        yield item


def _budget_concat(parts: list[Any]) -> str:
    _check_size(sum(len(part) if isinstance(part, str) else 0 for part in parts), "~")
    return markup_join(parts)


def _guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` checked before it runs and after, keeping Jinja's
    pass_context/pass_environment marks (copied by functools.wraps)."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        values = [
            arg for arg in args if not isinstance(arg, Context | nodes.EvalContext | jinja2.Environment)
        ]
        values += list(kwargs.values())
        _check_int_args(values, f"filter {name}")
        padding = [v for v in values[1:] if isinstance(v, str) and len(v) > _MAX_PAD_ARG]
        if name in ("indent", "wordwrap") and padding:
            raise BudgetExceeded(f"filter {name}: string argument over {_MAX_PAD_ARG} characters")
        if name == "replace" and len(values) >= 3 and isinstance(values[0], str):
            _check_size(_projected_replace(str(values[0]), *values[1:4]), "filter replace")
        if name == "format" and values:
            _check_format(values[0], "filter format")
        result = function(*args, **kwargs)
        if isinstance(result, str | list | tuple):
            _check_size(len(result), f"filter {name}")
        return result

    return guarded


class _BudgetPoints(NodeTransformer):
    """Routes every loop and every ``~`` through the budget."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP_FILTER, [], [], None, None, lineno=node.iter.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        items = nodes.List(node.nodes, lineno=node.lineno)
        return nodes.Filter(items, _CONCAT_FILTER, [], [], None, None, lineno=node.lineno)


class BudgetedSandbox(SandboxedEnvironment):
    """``SandboxedEnvironment`` with the budget above."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=self._finalize, **options)
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.filters[_LOOP_FILTER] = _budget_loop
        self.filters[_CONCAT_FILTER] = _budget_concat
        self.globals["range"] = _budget_range
        del self.globals["lipsum"]  # lipsum(n=...) writes n paragraphs of filler

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        transformed: nodes.Template = _BudgetPoints().visit(tree)
        return transformed

    @staticmethod
    def _finalize(value: Any) -> Any:
        # Every {{ }} passes here, also inside {% set %} blocks and macros that
        # capture output, so doubling a value by printing it twice is counted.
        current = _CURRENT.get()
        if current is not None:
            current.emit(len(value) if isinstance(value, str) else 1)
        return value

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                    _check_size(len(sequence) * times, "*")
            both_ints = isinstance(left, int) and isinstance(right, int)
            if both_ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise BudgetExceeded(f"* would make an integer of more than {MAX_INT_BITS:,} bits")
        elif operator == "**":
            grows = isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
            if grows and left.bit_length() * right > MAX_INT_BITS:
                raise BudgetExceeded(f"** would make an integer of more than {MAX_INT_BITS:,} bits")
        elif operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                _check_size(len(left) + len(right), "+")
        elif operator == "%":
            _check_format(left, "%")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        target = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        owner = getattr(target, "__self__", None)
        if isinstance(target, types.BuiltinMethodType | types.MethodWrapperType) or isinstance(
            owner, str | list | tuple | dict
        ):
            what = getattr(target, "__name__", "method")
            _check_int_args([*args, *kwargs.values()], what)
            if isinstance(owner, str) and what == "replace" and len(args) >= 2:
                _check_size(_projected_replace(owner, *args[:3]), "replace")
            elif isinstance(owner, str) and what == "join" and args:
                _check_size(_projected_join(owner, args[0]), "join")
            elif isinstance(owner, str) and what in ("format", "format_map"):
                _check_format(owner, what)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, str | list | tuple):
            _check_size(len(result), "call")
        return result

"""Adding a form or image XObject to one page of a merged PDF."""

from __future__ import annotations

import pikepdf
from pikepdf import Dictionary, Name


def add_xobject(page: pikepdf.Page, base: str, xobject: pikepdf.Object) -> Name:
    """Put ``xobject`` in ``page``'s resources under a name starting ``base`` that is
    not taken, and return the name.

    The page gets resource dictionaries of its own first: pages of one PDF often
    share their /Resources (and reportlab's pages their /XObject), and what is added
    here differs per page. The name is chosen, not random (``Page.add_resource``
    draws a random one), so the bundle's bytes are the same on every build."""
    resources = _own_copy(page.obj.get(Name.Resources))
    xobjects = _own_copy(resources.get(Name.XObject))
    name = Name(f"/{base}")
    suffix = 0
    while name in xobjects:
        suffix += 1
        name = Name(f"/{base}{suffix}")
    xobjects[name] = xobject
    resources[Name.XObject] = xobjects
    page.obj[Name.Resources] = resources
    return name


def _own_copy(value: object) -> Dictionary:
    """A new direct dictionary with the entries of ``value`` (if it is one)."""
    if not isinstance(value, Dictionary):
        return Dictionary()
    return Dictionary(dict(value.items()))

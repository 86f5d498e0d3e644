"""The one error the capture API raises: an argument it cannot use.

Recording never raises into the traced process (a record that cannot be
written is counted and warned about once); only a call that cannot mean
anything as written (an empty component name, a prompt segment without a
size) is refused, at once, so the mistake is fixed where it is made. It is a
:class:`ValueError` too, as those calls raised before it existed.
"""

from orca.errors import UsageError


class CaptureError(UsageError, ValueError):
    """A capture call given an argument it cannot use; the message names it and the fix."""

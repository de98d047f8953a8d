"""The help formatter every `ttrelay` command uses: the docstring's line breaks kept, defaults shown."""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: X)" to an option's help, except where there is nothing worth saying.

    An unset option (None), an empty list or string, or a flag that is off says nothing an operator can
    use, and "(default: None)" reads like a bug, so those are left out.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        default = action.default
        # `is` for None and False: 0 == False, and a default of 0 is worth showing.
        if (
            default is None
            or default is False
            or default in ("", [], ())
            or "%(default)" in (action.help or "")
        ):
            return action.help
        return super()._get_help_string(action)

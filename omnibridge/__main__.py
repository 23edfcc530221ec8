"""``python -m omnibridge``: the same as the ``omnibridge`` command."""

from omnibridge.cli.app import main

main()

"""``python -m omnibridge.cli``: the same as the ``omnibridge`` command."""

from omnibridge.cli.app import main

main()

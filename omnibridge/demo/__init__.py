"""``omnibridge demo``: the whole flow on local emulators, with figures. See :mod:`omnibridge.demo.run`."""

"""Direct carrier accounts (UPS, FedEx, USPS, DHL Express) driven through karrio's maintained carrier packages.

Each carrier is its own connector (``connectors.karrio.<id>:connector``; DHL Express uses karrio's ``mydhl``
package) so a missing karrio package fails the discovery of that carrier only. Importing this package, or a spec
module, imports no karrio code: ``gateway.py`` is the only module that does, at first use.
"""

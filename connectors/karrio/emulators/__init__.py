"""Local emulators of the carrier APIs karrio drives (UPS, FedEx, USPS, DHL Express MyDHL): Starlette apps."""

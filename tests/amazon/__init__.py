"""Amazon SP-API connector and emulator tests."""

"""Merchant profiles: ``omnibridge.yaml``, the connector profiles and mapping files it references.

Public surface::

    load_profile(path, *, registry=None, env=None) -> LoadedProfile   # raises ProfileErrors
    LoadedProfile, LoadedChannel, MappingTables                        # the validated result
    ProfileErrors                                                      # every problem, one line each
    write_starter_profile(path, *, force=False) -> Path                # what `omnibridge init` writes
    profile_summary(profile) -> str                                    # what `omnibridge validate` prints

The file formats are documented in ``docs/configuration.md``.
"""

from omnibridge.config.errors import ProfileErrors
from omnibridge.config.loaded import LoadedChannel, LoadedProfile, MappingTables
from omnibridge.config.loader import load_profile
from omnibridge.config.schema import MerchantSection
from omnibridge.config.starter import DEFAULT_PROFILE, PROFILE_ENV, starter_profile_text, write_starter_profile
from omnibridge.config.summary import profile_summary

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILE_ENV",
    "LoadedChannel",
    "LoadedProfile",
    "MappingTables",
    "MerchantSection",
    "ProfileErrors",
    "load_profile",
    "profile_summary",
    "starter_profile_text",
    "write_starter_profile",
]

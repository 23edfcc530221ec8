"""A short, credential-free description of a loaded profile (what ``omnibridge validate`` prints)."""

from __future__ import annotations

from omnibridge.config.loaded import LoadedProfile


def profile_summary(profile: LoadedProfile) -> str:
    """Several lines: the profile path, merchant, store URL (password masked), locations and channels.

    When the profile has no channels, the last line is a note saying so.
    """
    merchant = profile.merchant
    locations = ", ".join(f"{loc.id} ({loc.type.value})" for loc in profile.locations)
    lines = [
        f"profile {profile.path} is valid",
        f"merchant:  {merchant.name} ({merchant.currency}, {merchant.timezone})",
        f"store:     {profile.store_url_masked}",
        f"locations: {len(profile.locations)}" + (f": {locations}" if locations else ""),
    ]
    if not profile.channels:
        lines.append("channels:  0")
        lines.append(
            "note: no channels are configured yet; add one under 'channels:' "
            "(see 'omnibridge connectors list' and docs/configuration.md)"
        )
        return "\n".join(lines)
    channels = ", ".join(
        f"{chan.id} ({chan.connector}{'' if chan.enabled else ', disabled'})" for chan in profile.channels
    )
    lines.append(f"channels:  {len(profile.channels)}: {channels}")
    return "\n".join(lines)

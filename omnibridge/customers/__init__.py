"""Customers across channels: one canonical customer per person (:mod:`.directory`), the consent hub
(:mod:`.consent`) and data-subject requests (:mod:`.privacy`, :mod:`.requests`). See docs/security.md."""

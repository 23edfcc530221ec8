"""`omnibridge db upgrade` and `omnibridge db current`, through the real command line app."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.config import write_starter_profile
from omnibridge.store import open_store
from omnibridge.store.engine import create_store_engine
from omnibridge.store.migrate import head_revision

runner = CliRunner()


def test_current_on_an_empty_database_then_upgrade_then_current(store_url: str) -> None:
    shown = sa.engine.make_url(store_url).render_as_string(hide_password=True)
    if store_url.startswith("sqlite"):  # an empty database file ('db current' never creates one)
        Path(sa.engine.make_url(store_url).database or "").touch()

    before = runner.invoke(app, ["db", "current", "--url", store_url])
    assert before.exit_code == 0, before.output
    assert before.output.strip() == f"{shown}: schema none (empty database: run 'omnibridge db upgrade')"

    upgraded = runner.invoke(app, ["db", "upgrade", "--url", store_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output.strip() == f"{shown}: upgraded schema from empty to {head_revision()}"

    again = runner.invoke(app, ["db", "upgrade", "--url", store_url])
    assert again.output.strip() == f"{shown}: already at the newest schema ({head_revision()})"

    after = runner.invoke(app, ["db", "current", "--url", store_url])
    assert after.output.strip() == f"{shown}: schema {head_revision()} (up to date)"


def test_current_reports_a_newer_schema_and_upgrade_refuses_it(store_url: str) -> None:
    open_store(store_url).close()
    engine = create_store_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()

    current = runner.invoke(app, ["db", "current", "--url", store_url])
    assert current.exit_code == 0
    assert current.output.strip().endswith(
        f"schema 9999 (newer than this omnibridge ({head_revision()}): upgrade omnibridge)"
    )

    refused = runner.invoke(app, ["db", "upgrade", "--url", store_url])
    assert refused.exit_code == 1
    assert refused.output.strip() == (
        f"error: database schema 9999 is newer than this omnibridge ({head_revision()}); upgrade omnibridge"
    )


def test_bad_urls_are_one_line_errors() -> None:
    result = runner.invoke(app, ["db", "current", "--url", "mysql://u@h/db"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unsupported database URL scheme 'mysql'")


def test_the_store_url_can_come_from_the_profile(tmp_path: Path) -> None:
    profile = write_starter_profile(tmp_path / "omnibridge.yaml")  # its store is sqlite:///omnibridge.db

    result = runner.invoke(app, ["db", "upgrade", "--profile", str(profile)])

    assert result.exit_code == 0, result.output
    database = (tmp_path / "omnibridge.db").resolve()
    assert result.output.strip() == f"sqlite:///{database}: upgraded schema from empty to {head_revision()}"
    current = runner.invoke(app, ["db", "current", "-p", str(profile)])
    assert current.output.strip() == f"sqlite:///{database}: schema {head_revision()} (up to date)"

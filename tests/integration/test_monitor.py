"""pynenc's monitor (pynmon, ``pynenc --app mymodule.app monitor``) over our state, for an
app configured only in code: no ``PYNENC__`` variable, no region in the environment."""

import argparse
import os
from pathlib import Path
from typing import Any

import pytest
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb import ConfigurationError, DynamoDBStateBackend
from tests.conftest import AppFactory, unique_app_id


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings come from the app's ``config_values`` only."""
    for name in list(os.environ):
        if name.startswith("PYNENC__") or name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            monkeypatch.delenv(name)
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)  # no pyproject.toml with [tool.pynenc] to read


@pytest.mark.usefixtures("bare_environment")
def test_monitor_lists_and_reads_apps_configured_in_code(
    make_app: AppFactory, dynamodb_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pynmon.app as pynmon
    from fastapi.testclient import TestClient
    from pynenc.cli.monitor_cli import get_all_available_apps

    # A table of their own: the monitor starts every app registered in the table.
    table = f"monitor-{unique_app_id()}"
    config = {**dynamodb_config, "dynamodb_table_name": table, "dynamodb_create_table": True}
    app = make_app(config)
    other = make_app(config)
    run = WorkflowIdentity("tests.helpers.contract_tasks.add", f"wf-monitor-{app.app_id}")
    app.state_backend.store_workflow_run(run)

    # What `pynenc --app ... monitor` does with the app it loaded.
    apps = get_all_available_apps(argparse.Namespace(app_instance=app))
    assert set(apps) == {app.app_id, other.app_id}
    assert apps[app.app_id].app_id == app.app_id
    # On the class, only the environment counts, and it names no region.
    with pytest.raises(ConfigurationError, match="No AWS region"):
        DynamoDBStateBackend.get_all_app_infos()

    # pynmon's own start-up, with its real FastAPI app; only the server loop is left out.
    monkeypatch.setattr(pynmon, "all_pynenc_instances", {})
    monkeypatch.setattr(pynmon, "pynenc_instance", None)
    monkeypatch.setattr(pynmon.uvicorn, "run", lambda *args, **kwargs: None)
    pynmon.start_monitor(apps=apps, selected_app=app)
    client = TestClient(pynmon.app)

    home = client.get("/")
    assert home.status_code == 200
    assert app.app_id in home.text and other.app_id in home.text
    runs = client.get("/workflows/runs")
    assert runs.status_code == 200
    assert run.workflow_id in runs.text


@pytest.mark.usefixtures("bare_environment")
def test_api_backend_lists_apps_with_its_own_settings(
    make_app: AppFactory, api_config: dict[str, Any]
) -> None:
    from pynenc_dynamodb import DynamoDBApiStateBackend

    app = make_app(api_config)
    assert app.app_id in app.state_backend.get_all_app_infos()
    # On the class, only the environment counts, and it names no API.
    with pytest.raises(ConfigurationError, match="No state API URL"):
        DynamoDBApiStateBackend.get_all_app_infos()

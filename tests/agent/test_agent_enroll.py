import stat
import tomllib
from pathlib import Path

import pytest

from seawall_agent.cli import main
from seawall_agent.config import ConfigError, load_config

from .conftest import CREDENTIAL, ENROLL_TOKEN, FakeSeawall


def test_enroll_writes_a_config_only_its_owner_can_read(
    tmp_path: Path, seawall: FakeSeawall, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "etc" / "seawall-agent" / "config.toml"

    code = main(["enroll", "--server", seawall.url + "/", "--token", ENROLL_TOKEN, "--config", str(path),
                 "--state-dir", str(tmp_path / "state")])

    assert code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = tomllib.loads(path.read_text())
    assert data["server"] == seawall.url
    assert data["credential"] == CREDENTIAL
    assert data["site_id"] == seawall.agent_payload()["site_id"]
    assert data["practice_id"] == seawall.agent_payload()["practice_id"]
    assert data["heartbeat_interval_seconds"] == 60
    assert [link["name"] for link in data["links"]] == ["Comcast fiber", "T-Mobile LTE"]
    assert data["jobs"][0] == {"id": seawall.agent_payload()["jobs"][0]["id"], "name": "nightly-restic",
                               "tool": "restic"}
    assert ENROLL_TOKEN not in path.read_text()
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    request = seawall.enroll_requests[0]
    assert request["token"] == ENROLL_TOKEN and request["agent_version"] == "0.1.0"
    # The credential is shown nowhere: not on the console, not in the logs, not in a repr.
    out = capsys.readouterr()
    assert CREDENTIAL not in out.out + out.err + caplog.text
    assert CREDENTIAL not in repr(load_config(path))


def test_enroll_config_path_comes_from_the_environment_when_not_given(
    tmp_path: Path, seawall: FakeSeawall, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "from-env.toml"
    monkeypatch.setenv("SEAWALL_AGENT_CONFIG", str(path))

    assert main(["enroll", "--server", seawall.url, "--token", ENROLL_TOKEN]) == 0

    config = load_config(path)
    assert config.credential == CREDENTIAL
    assert config.state_dir == tmp_path / "state"  # next to a non-default config


def test_reenrolling_keeps_the_probe_settings_written_by_hand(tmp_path: Path, seawall: FakeSeawall) -> None:
    path = tmp_path / "config.toml"
    assert main(["enroll", "--server", seawall.url, "--token", ENROLL_TOKEN, "--config", str(path)]) == 0
    text = path.read_text().replace('role = "backup"', 'role = "backup"\nprobe = "icmp:9.9.9.9"\ninterface = "wwan0"')
    path.write_text(text)
    seawall.used_tokens.clear()

    assert main(["enroll", "--server", seawall.url, "--token", ENROLL_TOKEN, "--config", str(path)]) == 0

    lte = load_config(path).links[1]
    assert (lte.name, lte.probe, lte.interface) == ("T-Mobile LTE", "icmp:9.9.9.9", "wwan0")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_used_enrollment_token_is_refused_and_no_config_is_written(tmp_path: Path, seawall: FakeSeawall) -> None:
    seawall.used_tokens.add(ENROLL_TOKEN)
    path = tmp_path / "config.toml"

    assert main(["enroll", "--server", seawall.url, "--token", ENROLL_TOKEN, "--config", str(path)]) == 1

    assert not path.exists()


def test_enroll_refuses_to_send_a_token_over_plain_http_to_a_remote_server(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"

    code = main(["enroll", "--server", "http://seawall.example.com", "--token", ENROLL_TOKEN, "--config", str(path)])

    assert code == 2
    assert not path.exists()


def test_refresh_updates_links_and_jobs_from_the_server(config_path: Path, seawall: FakeSeawall) -> None:
    text = config_path.read_text()
    config_path.write_text(text.replace('name = "T-Mobile LTE"', 'name = "T-Mobile LTE"\nprobe = "tcp:1.1.1.1:443"'))
    original = seawall.agent_payload
    seawall.agent_payload = lambda: {**original(), "jobs": [{"id": "j2", "name": "hourly-veeam", "tool": "veeam"}]}

    assert main(["refresh", "--config", str(config_path)]) == 0

    config = load_config(config_path)
    assert [job.name for job in config.jobs] == ["hourly-veeam"]
    assert config.links[1].probe == "tcp:1.1.1.1:443"
    assert config.credential == CREDENTIAL


def test_enroll_that_could_not_write_its_config_exits_74_before_spending_the_single_use_token(
    tmp_path: Path, seawall: FakeSeawall
) -> None:
    blocker = tmp_path / "etc"
    blocker.write_text("a file where the config directory should be")

    code = main(["enroll", "--server", seawall.url, "--token", ENROLL_TOKEN, "--config", str(blocker / "config.toml")])

    assert code == 74
    assert seawall.enroll_requests == []  # the token is still good for a second try
    assert main(["enroll", "--server", seawall.url, "--token", ENROLL_TOKEN,
                 "--config", str(tmp_path / "config.toml")]) == 0


def test_the_heartbeat_interval_set_in_the_config_goes_with_every_heartbeat_and_survives_refresh(
    config_path: Path, seawall: FakeSeawall
) -> None:
    """One setting: this machine's interval, told to Seawall in each heartbeat, which judges
    silence by it; the server's answer (its default, or what it last heard) does not overwrite it."""
    config_path.write_text(config_path.read_text().replace("heartbeat_interval_seconds = 60", "heartbeat_interval_seconds = 300"))

    assert main(["refresh", "--config", str(config_path)]) == 0
    assert load_config(config_path).heartbeat_interval_seconds == 300
    assert main(["heartbeat", "--config", str(config_path)]) == 0

    assert [(e["type"], e["heartbeat_interval_seconds"]) for e in seawall.events] == [("heartbeat", 300)]


def test_the_probe_interval_set_in_the_config_goes_with_every_heartbeat_and_survives_refresh(
    config_path: Path, seawall: FakeSeawall
) -> None:
    """Seawall judges a link "no data" after N of the probe interval its site's agents state, so
    each heartbeat says this machine's; a refresh keeps it."""
    config_path.write_text(config_path.read_text().replace("probe_interval_seconds = 60", "probe_interval_seconds = 120"))

    assert main(["refresh", "--config", str(config_path)]) == 0
    assert load_config(config_path).probe_interval_seconds == 120
    assert main(["heartbeat", "--config", str(config_path)]) == 0

    assert [(e["type"], e["probe_interval_seconds"]) for e in seawall.events] == [("heartbeat", 120)]


def test_a_probe_interval_longer_than_a_day_is_a_config_error_naming_it(config_path: Path) -> None:
    config_path.write_text(config_path.read_text().replace("probe_interval_seconds = 60", "probe_interval_seconds = 86401"))

    with pytest.raises(ConfigError, match="probe_interval_seconds: must be at most 86400"):
        load_config(config_path)


def test_a_heartbeat_interval_longer_than_a_day_is_a_config_error_naming_it(config_path: Path) -> None:
    config_path.write_text(config_path.read_text().replace("heartbeat_interval_seconds = 60", "heartbeat_interval_seconds = 86401"))

    with pytest.raises(ConfigError, match="heartbeat_interval_seconds: must be at most 86400"):
        load_config(config_path)

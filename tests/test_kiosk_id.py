"""One rule for a kiosk's id wherever it is given: the config, `kiosk init`, `kiosk-central add-kiosk`.

The id travels in the URL of every push, which takes plain ASCII only: an id
such as 门口 was once accepted by all three and then refused by every push.
"""

import pytest
from click.testing import CliRunner

from kiosk.cli import main as kiosk
from kiosk.config import load_config
from kiosk.domain.errors import ConfigError
from sync.server.cli import main as central


@pytest.mark.parametrize("bad", ["门口", "door 1", "", "x" * 65, "door/1"])
def test_a_bad_kiosk_id_is_refused_the_same_way_everywhere(tmp_path, bad):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\nid = "{bad}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[kiosk\] id: must be 1 to 64 letters"):
        load_config(config)
    init = CliRunner().invoke(kiosk, ["init", "--db", str(tmp_path / "k.db"), "--kiosk-id", bad])
    assert init.exit_code != 0 and "1 to 64 letters" in init.output
    assert not (tmp_path / "k.db").exists()
    added = CliRunner().invoke(central, ["add-kiosk", bad, "--db", str(tmp_path / "c.db")])
    assert added.exit_code != 0 and "1 to 64 letters" in added.output


@pytest.mark.parametrize("good", ["door", "cabinet-3a", "Door_2.b", "x" * 64])
def test_a_good_kiosk_id_is_taken_everywhere(tmp_path, good):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\nid = "{good}"\n')
    assert load_config(config).kiosk.id == good
    assert CliRunner().invoke(kiosk, ["init", "--db", str(tmp_path / "k.db"), "--kiosk-id", good]).exit_code == 0
    assert CliRunner().invoke(central, ["init", "--db", str(tmp_path / "c.db")]).exit_code == 0
    assert CliRunner().invoke(central, ["add-kiosk", good, "--db", str(tmp_path / "c.db")]).exit_code == 0

"""The kiosk's clock: trusted once synced, never stamping before the last trusted time."""

from datetime import datetime, timedelta, timezone

from kiosk import store
from kiosk.clock import SystemClock, boot_id
from kiosk.domain.events import Record


def test_untrusted_until_time_sync_or_a_sync_with_the_central_store(tmp_path):
    db = store.init_db(tmp_path / "k.db", "door")
    flag = tmp_path / "synchronized"
    clock = SystemClock(lambda: store.central_offset(db), timesync_flag=flag)
    assert clock.trusted is False
    flag.touch()  # systemd-timesyncd says the clock is set
    assert clock.trusted is True
    flag.unlink()
    store.set_meta(db, central_offset=3600.0, central_offset_boot="an earlier boot")
    assert clock.trusted is False  # an offset from another boot says nothing about this one
    store.set_meta(db, central_offset=3600.0, central_offset_boot=boot_id())
    assert clock.trusted is True
    # The central store's clock is an hour ahead of this Pi's: the kiosk believes it.
    ahead = clock.now() - datetime.now(timezone.utc)
    assert timedelta(minutes=59) < ahead < timedelta(minutes=61)


def test_a_record_is_never_stamped_before_the_last_trusted_time(tmp_path):
    db = store.init_db(tmp_path / "k.db", "door")
    flag = tmp_path / "synchronized"
    flag.touch()
    clock = SystemClock(lambda: store.central_offset(db), timesync_flag=flag)
    trusted_now = clock.now()
    store.append_records(db, "door", [Record("inventory")], clock.stamp(trusted_now))
    # Rebooted without network: the clock says 1970 and is not trusted.
    flag.unlink()
    wrong = datetime(1970, 1, 1, tzinfo=timezone.utc)
    stamp = clock.stamp(wrong, store.last_trusted_at(db))
    assert stamp["trusted"] is False
    assert datetime.fromisoformat(stamp["at"]) >= trusted_now - timedelta(milliseconds=1)
    store.append_records(db, "door", [Record("inventory")], stamp)
    first, second = (r["at"] for r in store.iter_log(db))
    assert second >= first

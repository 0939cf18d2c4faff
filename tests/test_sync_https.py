"""Over a school network: the kiosk verifies the central store's certificate."""

import subprocess

import pytest

from kiosk import store
from sync.server import db as central_db
from sync.client import SyncClient, make_session
from tests.servers import CentralServer
from tests.test_sync import config_for


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(folder, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=folder)
    return folder / f"{name}.pem"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A school CA, a server certificate for 127.0.0.1 signed by it, and a stranger CA."""
    folder = tmp_path_factory.mktemp("pki")
    make_ca(folder, "school-ca")
    make_ca(folder, "other-ca")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=central", "-keyout", "central.key",
            "-out", "central.csr", cwd=folder)
    openssl("x509", "-req", "-in", "central.csr", "-CA", "school-ca.pem", "-CAkey", "school-ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "central.pem", cwd=folder)
    return folder


@pytest.fixture(scope="module")
def central(tmp_path_factory, pki):
    path = tmp_path_factory.mktemp("central") / "central.db"
    db = central_db.init_db(path)
    token = central_db.add_kiosk(db, "door")
    central_db.import_csv(db, "items", "id,title,author,call_number,tag_uid,barcode,home,status\n"
                                       "B1,Holes,,,04445566778899,,library,available\n", "items.csv")
    with CentralServer(path, ssl_certfile=str(pki / "central.pem"), ssl_keyfile=str(pki / "central.key")) as server:
        server.token = token
        yield server


def sync_with(tmp_path, central, ca_file):
    db = store.init_db(tmp_path / "door.db", "door")
    config = config_for("door", central.url, central.token, ca_file=str(ca_file) if ca_file else "")
    session = make_session(config.central.ca_file, retries=0)
    return db, SyncClient(db, config, session=session)


def test_the_kiosk_trusts_the_school_ca_named_in_its_config(tmp_path, central, pki):
    assert central.url.startswith("https://")
    db, client = sync_with(tmp_path, central, pki / "school-ca.pem")
    assert client.run_once(), store.get_meta(db, "last_error")
    assert store.item_by_uid(db, "04445566778899").title == "Holes"


@pytest.mark.parametrize("ca", ["other-ca.pem", None])
def test_a_certificate_it_cannot_verify_stops_the_sync_and_says_so(tmp_path, central, pki, ca):
    db, client = sync_with(tmp_path, central, pki / ca if ca else None)
    assert client.run_once() is False
    error = store.get_meta(db, "last_error")
    assert "certificate" in error and "ca_file" in error
    assert central.token not in error
    assert store.item_by_uid(db, "04445566778899") is None

"""TLS to a real TLS port: a 1-server ensemble with a secureClientPort
(`zkc ensemble up --tls-config`) that requires client certificates, and
certificates made here with openssl."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from typing import Iterator, NamedTuple

import pytest

import zkc
from conftest import SCALE, TIMEOUT, zkc_cli

CERTS = r"""set -e
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext.cnf
for ca in ca stranger; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.pem -days 30 \
    -subj "/CN=zkc python test $ca" 2>/dev/null
done
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt \
  -days 30 -extfile ext.cnf 2>/dev/null
cat server.key server.crt > server.pem
openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=pyclient 2>/dev/null
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.crt \
  -days 30 -extfile ext.cnf 2>/dev/null
cat > tls.cfg <<CFG
ssl.keyStore.location=$PWD/server.pem
ssl.keyStore.type=PEM
ssl.trustStore.location=$PWD/ca.pem
ssl.trustStore.type=PEM
ssl.clientAuth=need
CFG
"""


class TLSEnsemble(NamedTuple):
    dir: str
    url: str        # zks://
    plain_url: str  # zk://, the same servers


def client_tls(ens: TLSEnsemble, **kw: object) -> zkc.TLS:
    """TLS options with the client certificate the server requires."""
    files = {"ca_file": os.path.join(ens.dir, "ca.pem"),
             "cert_file": os.path.join(ens.dir, "client.crt"),
             "key_file": os.path.join(ens.dir, "client.key")}
    files.update(kw)  # type: ignore[arg-type]
    return zkc.TLS(**files)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tls_ensemble() -> Iterator[TLSEnsemble]:
    d = tempfile.mkdtemp(prefix="zkc-py-tls-")
    try:
        subprocess.run(["sh", "-c", CERTS], cwd=d, check=True, capture_output=True,
                       timeout=120 * SCALE)
        r = subprocess.run([zkc_cli(), "ensemble", "up", "--nodes", "1", "--dir",
                            os.path.join(d, "ens"), "--tls-config", os.path.join(d, "tls.cfg"),
                            "--env", "--timeout", str(int(60 * SCALE))],
                           capture_output=True, text=True, timeout=180 * SCALE)
        assert r.returncode == 0, r.stderr
        env = dict(re.findall(r"^export (\w+)='([^']*)'$", r.stdout, re.M))
        assert env.get("ZKC_SECURE_URL", "").startswith("zks://"), r.stdout
        yield TLSEnsemble(d, env["ZKC_SECURE_URL"], env["ZKC_URL"])
    finally:
        subprocess.run([zkc_cli(), "ensemble", "down", "--dir", os.path.join(d, "ens")],
                       capture_output=True, timeout=120 * SCALE)
        shutil.rmtree(d, ignore_errors=True)


def test_tls_client_reads_and_writes_over_a_tls_port(tls_ensemble: TLSEnsemble,
                                                      path: str) -> None:
    tls = client_tls(tls_ensemble)
    with zkc.Client(tls_ensemble.url, tls=tls, connect_timeout=TIMEOUT) as c:
        c.create(path, b"sealed", makepath=True)
        assert c.get(path)[0] == b"sealed"
        assert c.state == zkc.State.CONNECTED
        # the plain port serves the same data: the write went to this server
        with zkc.Client(tls_ensemble.plain_url) as plain:
            assert plain.get(path)[0] == b"sealed"
        c.delete(path)


def test_tls_server_that_requires_a_client_certificate(tls_ensemble: TLSEnsemble) -> None:
    without = zkc.TLS(ca_file=os.path.join(tls_ensemble.dir, "ca.pem"))
    with pytest.raises(zkc.TLSError):
        zkc.Client(tls_ensemble.url, tls=without, connect_timeout=4)
    with zkc.Client(tls_ensemble.url, tls=client_tls(tls_ensemble),
                    connect_timeout=TIMEOUT) as c:
        assert c.exists("/") is not None


@pytest.mark.parametrize("case", ["stranger_ca", "wrong_name", "missing_ca"])
def test_tls_failures_name_the_reason(tls_ensemble: TLSEnsemble, case: str) -> None:
    d = tls_ensemble.dir
    exc: type[zkc.Error] = zkc.TLSError
    if case == "stranger_ca":
        tls, reason = client_tls(tls_ensemble, ca_file=os.path.join(d, "stranger.pem")), "verif"
    elif case == "wrong_name":
        tls, reason = client_tls(tls_ensemble, server_name="zk.example.org"), "zk.example.org"
    else:
        tls = client_tls(tls_ensemble, ca_file=os.path.join(d, "missing.pem"))
        reason, exc = "missing.pem", zkc.BadArgumentsError
    with pytest.raises(exc) as info:
        zkc.Client(tls_ensemble.url, tls=tls, connect_timeout=4)
    assert reason in info.value.message


def test_tls_without_host_verification_checks_the_chain_only(tls_ensemble: TLSEnsemble) -> None:
    tls = client_tls(tls_ensemble, server_name="zk.example.org", verify_host=False)
    with zkc.Client(tls_ensemble.url, tls=tls, connect_timeout=TIMEOUT) as c:
        assert c.exists("/") is not None
    with pytest.raises(TypeError):
        zkc.Client(tls_ensemble.url, tls={"ca_file": "x"})  # type: ignore[arg-type]

"""Transport security: no clear-text key to a remote host, TLS verification always on.

* ``http://`` to anything but loopback is refused unless ``--allow-insecure-http`` (or the
  profile's ``allow_insecure_http``) says so; the CLI exits 2 with one clear sentence. No
  test sends a byte to a non-loopback address: the refusal happens before any connection.
* The client verifies certificates and host names by default, nothing in the config can
  switch that off, and a profile's ``ca_bundle`` reaches the client: an HTTPS server on
  loopback with a certificate from a CA made here is refused by default and accepted with
  the bundle.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import tui.cli
from tui.api.client import ConversionsClient
from tui.api.errors import TransportError
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import (
    AppConfig,
    ConfigError,
    ProfileSettings,
    check_base_url,
    load_config,
    parse_config,
    resolve_profile,
)

APP = Path(sys.executable).parent / "conversions-tui"
REMOTE = "http://10.255.255.1"  # never contacted: refused (or accepted) before connecting
KEY = "tls-test-key-0123456789"


# ------------------------------------------------------------ plain http refused
@pytest.mark.parametrize("url", [
    REMOTE, "http://10.0.0.1:8080/api", "http://api.example.com", "http://0.0.0.0:8765",
    "http://127.0.0.1.evil.example", "http://localhost.evil.example", "http://127.1",
    "http://[::ffff:7f00:1]", "http://2130706433",
])
def test_plain_http_to_a_non_loopback_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_base_url(url, allow_insecure_http=False)
    assert "clear text" in refused.value.message and "https://" in refused.value.message
    check_base_url(url, allow_insecure_http=True)  # the explicit opt-in accepts it


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8765", "http://127.0.0.2", "http://[::1]:8765", "http://localhost:1",
    "http://LOCALHOST", "https://api.example.com", "https://10.0.0.1",
])
def test_loopback_http_and_any_https_are_accepted(url: str) -> None:
    check_base_url(url, allow_insecure_http=False)


def test_resolution_refuses_then_accepts_with_the_flag() -> None:
    env = {"CONVERSIONS_BASE_URL": REMOTE}
    with pytest.raises(ConfigError, match="clear text"):
        resolve_profile(AppConfig(), profile=None, base_url=None, env=env)
    chosen = resolve_profile(AppConfig(), profile=None, base_url=None, env=env,
                             allow_insecure_http=True)
    assert chosen.base_url == REMOTE and chosen.allow_insecure_http
    config = parse_config(f'[profiles.lab]\nbase_url = "{REMOTE}"\nallow_insecure_http = true\n')
    assert config.profiles["lab"].allow_insecure_http  # the profile's own opt-in
    with pytest.raises(ConfigError, match="clear text"):
        parse_config(f'[profiles.lab]\nbase_url = "{REMOTE}"\n')


def _cli(*args: str, env_extra: dict[str, str] | None = None,
         home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CONFIG_HOME": str(home / "c"),
           "XDG_DATA_HOME": str(home / "d"), "XDG_STATE_HOME": str(home / "s"),
           "XDG_CACHE_HOME": str(home / "k"), "LANG": "C.UTF-8",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", **(env_extra or {})}
    return subprocess.run([str(APP), *args], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, check=False)


@pytest.mark.parametrize("args, env_extra", [
    (("watch", "--base-url", "http://10.0.0.1", "1"), None),
    (("--base-url", "http://10.0.0.1", "1"), None),
    (("watch", "1"), {"CONVERSIONS_BASE_URL": "http://10.0.0.1"}),
    (("login", "--base-url", "http://10.0.0.1"), None),
])
def test_cli_refuses_plain_http_to_a_remote_host_with_exit_2(
        args: tuple[str, ...], env_extra: dict[str, str] | None, tmp_path: Path) -> None:
    result = _cli(*args, env_extra=env_extra, home=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "clear text" in result.stderr and "https://" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").rglob("*.db*"))


def test_cli_with_the_flag_goes_on_to_the_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[ProfileSettings] = []

    def run_app(paths: AppPaths, config: AppConfig, profile: ProfileSettings,
                **kwargs: Any) -> int:
        started.append(profile)  # instead of the app: nothing connects anywhere
        return 0

    monkeypatch.setattr(tui.cli, "_run_app", run_app)
    assert tui.cli.main(["--base-url", REMOTE, "7"]) == 2
    assert started == []
    assert tui.cli.main(["--allow-insecure-http", "--base-url", REMOTE, "7"]) == 0
    assert [p.base_url for p in started] == [REMOTE] and started[0].allow_insecure_http


@pytest.mark.parametrize("url", [
    "ftp://support:hunter2-secret@api.example.com", "https://support:hunter2-secret@h:port",
    "https://support:hunter2-secret@api.example.com/a b",
])
def test_refusal_messages_never_quote_a_password(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_base_url(url, allow_insecure_http=False)
    assert "hunter2-secret" not in refused.value.message


# ------------------------------------------------------------- TLS verification
def _context(client: ConversionsClient) -> ssl.SSLContext:
    context: ssl.SSLContext = client._http._transport._pool._ssl_context  # type: ignore[attr-defined]
    return context


async def test_client_verifies_certificates_and_host_names_by_default(tmp_path: Path) -> None:
    async with ConversionsClient("https://api.example.test", KEY) as client:
        context = _context(client)
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    # Nothing in a config file can turn it off: such keys are unknown, hence ignored.
    config = parse_config('[profiles.p]\nbase_url = "https://api.example.test"\n'
                          "verify = false\ninsecure = true\nverify_ssl = false\n")
    assert len(config.warnings) == 3, config.warnings
    session = MonitorSession.open(AppPaths.under(tmp_path), config, config.profiles["p"])
    try:
        source = session.open_client(ApiKey(KEY))
        context = _context(source.client)
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
        await source.aclose()
    finally:
        session.close()


@dataclass(frozen=True)
class Certificates:
    """A CA and a server certificate (for 127.0.0.1) it signed, as PEM files."""

    ca: Path
    server_cert: Path
    server_key: Path


def _with_cryptography(folder: Path) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "conversions-tui test CA")])
    usage = {name: False for name in ("digital_signature", "content_commitment",
                                       "key_encipherment", "data_encipherment",
                                       "key_agreement", "key_cert_sign", "crl_sign",
                                       "encipher_only", "decipher_only")}
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(**{**usage, "key_cert_sign": True, "crl_sign": True,
                                          "digital_signature": True}), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(server_key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(minutes=5))
              .not_valid_after(now + timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName(
                  [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                  ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    files = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.server_cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files.server_key.write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return files


def _with_openssl(folder: Path, openssl: str) -> Certificates:
    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True,
                       timeout=60)

    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                       "extendedKeyUsage=serverAuth\n", encoding="ascii")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "1", "-subj", "/CN=conversions-tui test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "server.ext")
    return Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA and a server certificate, made with cryptography, else the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    try:
        return _with_cryptography(folder)
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("neither the cryptography package nor the openssl command is here")
        return _with_openssl(folder, openssl)


class _StatusHandler(BaseHTTPRequestHandler):
    """Answers any GET with a status envelope for conversion 1."""

    def do_GET(self) -> None:
        body = json.dumps({"profile": None, "payload": {"id": 1, "status": "Completed"},
                           "errors": [], "hasErrors": False, "warnings": [],
                           "hasWarnings": False, "metadata": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: refused handshakes are the point of some tests."""


@pytest.fixture
def https_server(certificates: Certificates) -> Iterator[str]:
    """An HTTPS server on loopback with the test CA's certificate; its base URL."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.server_cert, certificates.server_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _session(tmp_path: Path, base_url: str, ca_bundle: Path | None) -> MonitorSession:
    profile = ProfileSettings(name="tls", base_url=base_url, timeout=10.0,
                              ca_bundle=str(ca_bundle) if ca_bundle else None)
    return MonitorSession.open(AppPaths.under(tmp_path / "app"), AppConfig(), profile)


async def test_profile_ca_bundle_reaches_the_client_and_verifies_the_server(
        https_server: str, certificates: Certificates, tmp_path: Path) -> None:
    with_bundle = _session(tmp_path, https_server, certificates.ca)
    try:
        source = with_bundle.open_client(ApiKey(KEY))
        context = _context(source.client)
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
        subjects = [dict(item[0] for item in cert["subject"])
                    for cert in context.get_ca_certs()]
        assert {"commonName": "conversions-tui test CA"} in subjects, subjects
        envelope = await source.get_status(1)
        assert envelope.payload is not None and envelope.payload.status == "Completed"
        await source.aclose()
    finally:
        with_bundle.close()


async def test_unknown_ca_is_refused_by_default(https_server: str, tmp_path: Path) -> None:
    default = _session(tmp_path, https_server, None)
    try:
        source = default.open_client(ApiKey(KEY))
        with pytest.raises(TransportError) as refused:
            await source.get_status(1)
        assert refused.value.reason == "tls", refused.value
        assert "TLS" in refused.value.message and KEY not in refused.value.message
        await source.aclose()
    finally:
        default.close()


def test_missing_ca_bundle_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[profiles.p]\nbase_url = "https://api.example.test"\n'
                           f'ca_bundle = "{missing}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(config_file)
    assert "ca_bundle" in refused.value.message and str(missing) in refused.value.message


async def test_ca_bundle_in_the_home_folder_can_be_written_with_a_tilde(
        certificates: Certificates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copy(certificates.ca, tmp_path / "corp-ca.pem")
    session = MonitorSession.open(
        AppPaths.under(tmp_path / "app"), AppConfig(),
        ProfileSettings(name="p", base_url="https://api.example.test",
                        ca_bundle="~/corp-ca.pem"))
    try:
        source = session.open_client(ApiKey(KEY))
        assert _context(source.client).get_ca_certs()
        await source.aclose()
    finally:
        session.close()

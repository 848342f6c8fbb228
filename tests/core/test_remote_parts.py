"""The pieces under the server engine: the event-stream reader, addresses, model lists, TLS."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest

from gptoss_desktop.core.remote.models import ModelChoiceError, choose_model, parse_models, server_kind
from gptoss_desktop.core.remote.openai_engine import ServerEngine
from gptoss_desktop.core.remote.server_errors import ServerUnavailableError, server_said
from gptoss_desktop.core.remote.server_url import BadServerAddressError, normalize_base_url, where_it_runs
from gptoss_desktop.core.remote.sse import event_data
from tests.fixtures.sse_server import ScriptedServer


def test_events_are_split_on_blank_lines_with_comments_and_other_fields_skipped() -> None:
    lines = [": ping", "event: message", 'data: {"a": 1}', "", "", "data:first", "data: second", "id: 7", ""]
    lines += ["data: [DONE]"]  # the last event without its blank line still counts
    assert list(event_data(lines)) == ['{"a": 1}', "first\nsecond", "[DONE]"]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("localhost:8080", "http://localhost:8080/v1"),
        ("http://GPU-Box:8000/", "http://gpu-box:8000/v1"),
        ("https://api.example.org/v1/", "https://api.example.org/v1"),
        ("https://example.org/openai/v1", "https://example.org/openai/v1"),
    ],
)
def test_addresses_are_kept_one_way(typed: str, kept: str) -> None:
    assert normalize_base_url(typed) == kept


def test_an_address_with_a_password_in_it_is_refused() -> None:
    """An address is shown, stored with the conversation and exported: a secret must not ride in it."""
    with pytest.raises(BadServerAddressError, match="give the key as the API key"):
        normalize_base_url("http://alice:s3cret@gpu-box:8000/v1")


def test_a_bad_address_is_refused_with_an_example() -> None:
    with pytest.raises(BadServerAddressError, match="like http://localhost:8080/v1"):
        normalize_base_url("ftp://files.example.org")
    with pytest.raises(ServerUnavailableError, match="not a server address"):
        ServerEngine("http://")


def test_where_a_conversation_runs_is_said_with_the_link_it_uses() -> None:
    assert where_it_runs("http://127.0.0.1:8080/v1") == "on a server on this computer (127.0.0.1:8080)"
    assert where_it_runs("https://gpu.example.org/v1") == "on the server gpu.example.org (encrypted)"
    assert "not encrypted" in where_it_runs("http://192.168.1.20:8000/v1")


def test_model_lists_of_the_common_servers() -> None:
    llama_server = parse_models({"data": [{"id": "gpt-oss-20b", "owned_by": "llamacpp", "meta": {"n_ctx": 16384}}]})
    vllm = parse_models({"data": [{"id": "openai/gpt-oss-120b", "owned_by": "vllm", "max_model_len": 131072}]})
    assert (server_kind(llama_server), llama_server[0].context_size) == ("llama-server", 16384)
    assert (server_kind(vllm), vllm[0].context_size) == ("vllm", 131072)
    assert server_kind(parse_models({"data": [{"id": "gpt-oss:20b", "owned_by": "library"}]})) == "ollama"
    assert parse_models({"data": [{"no": "id"}, {"id": "x"}]})[0].id == "x"
    with pytest.raises(ValueError):
        parse_models({"models": []})


def test_choosing_a_model() -> None:
    models = parse_models({"data": [{"id": "qwen3"}, {"id": "openai/gpt-oss-20b"}]})
    assert choose_model(models, None, "S").id == "openai/gpt-oss-20b"
    assert choose_model(models, "gpt-oss-20b", "S").id == "openai/gpt-oss-20b"  # without the organisation
    assert choose_model(models, "QWEN3", "S").id == "qwen3"
    with pytest.raises(ModelChoiceError, match="S lists no models"):
        choose_model([], None, "S")


def test_servers_error_texts_are_found_in_their_shapes() -> None:
    assert server_said('{"error": {"message": "Invalid API key", "type": "auth"}}') == "Invalid API key"
    assert server_said('{"detail": "Not Found"}') == "Not Found"
    assert (
        server_said('{"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}')
        == "messages: field required"
    )
    assert server_said("<html>Bad Gateway</html>") == "<html>Bad Gateway</html>"
    assert len(server_said("x" * 5000)) == 300


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A certificate authority of our own and a server certificate for 127.0.0.1 signed by it."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gptoss-desktop test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(2)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "server.key").write_bytes(
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return folder / "ca.pem", context


def test_tls_is_verified_and_a_servers_own_authority_can_be_given(certificates: tuple[Path, ssl.SSLContext]) -> None:
    ca_file, server_context = certificates
    with ScriptedServer(tls=server_context) as server:
        with pytest.raises(
            ServerUnavailableError, match=r"certificate of the server at 127\.0\.0\.1:\d+ could not be verified"
        ):
            ServerEngine(server.url)
        assert server.requests == []
        engine = ServerEngine(server.url, ca_file=str(ca_file))
        engine.close()
    assert engine.info.name == "gpt-oss-20b" and server.requests == []

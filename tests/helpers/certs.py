"""A throw-away self-signed certificate for localhost/127.0.0.1 (openssl CLI), for TLS tests."""

from __future__ import annotations

import subprocess


def make_cert(folder) -> tuple:
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key

"""Command line: ``python -m tlslab explain HEX`` (more commands arrive with the engine)."""

from __future__ import annotations

import argparse
import sys

from .constants import ProtocolVersion
from .explain import explain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tlslab", description="tlslab: learn TLS on real bytes"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_explain = sub.add_parser(
        "explain", help="annotate a record or handshake message given in hex"
    )
    p_explain.add_argument("hex", nargs="?", help="hex bytes (default: read from standard input)")
    p_explain.add_argument(
        "--tls", choices=["1.2", "1.3"], help="version, where message forms differ"
    )
    args = parser.parse_args(argv)

    if args.command == "explain":
        text = args.hex if args.hex is not None else sys.stdin.read()
        version = {"1.2": ProtocolVersion.TLS12, "1.3": ProtocolVersion.TLS13}.get(args.tls or "")
        try:
            result = explain(text, version=version)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(result)
        return 1 if result.error else 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())

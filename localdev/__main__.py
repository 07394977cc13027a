"""``python -m localdev``: the service on http://127.0.0.1:${PORT:-3000} against the embedded emulator."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]  # as /opt/python is on Lambda


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--emulator-port", type=int, default=int(os.environ.get("EMULATOR_PORT", "0")),
                        help="port of the embedded moto server (0: any free port)")
    parser.add_argument("--dynamodb-endpoint", default=os.environ.get("LOCAL_DYNAMODB_ENDPOINT"),
                        help="send DynamoDB calls here (e.g. DynamoDB Local) instead of moto")
    args = parser.parse_args(argv)

    import warnings

    # Read-only routes publish no metrics, and Powertools warns about it on every request.
    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
    from localdev import emulator

    emu = emulator.start(port=args.emulator_port, dynamodb_endpoint=args.dynamodb_endpoint)
    # Links in emails (unsubscribe) and referral links (their landing pages and QR codes) point at this server.
    os.environ["PUBLIC_BASE_URL"] = f"http://{args.host}:{args.port}"
    os.environ["REFERRAL_LINK_BASE"] = os.environ["PUBLIC_BASE_URL"]

    from localdev.server import LocalGateway, serve
    from loyalty import wiring
    from loyalty.shared.clock import AdjustableClock

    clock = AdjustableClock()
    wiring.configure(clock=clock)
    gateway = LocalGateway(clock, names=emu.names)
    server = serve(gateway, args.host, args.port)
    print(f"loyalty-ledger local server on http://{args.host}:{server.server_address[1]} "
          f"(emulator {emu.endpoint}{', DynamoDB at ' + args.dynamodb_endpoint if args.dynamodb_endpoint else ''})",
          flush=True)
    print(f"  docs: http://{args.host}:{server.server_address[1]}/docs", flush=True)
    print(f"  console: http://{args.host}:{server.server_address[1]}/console/ (sign in as the cashier or the owner)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        emu.stop()


if __name__ == "__main__":
    main()

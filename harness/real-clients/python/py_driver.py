#!/usr/bin/env python3
"""Drive py-eureka-client (0.13.3) against a Eureka server.  Our own harness code.

usage: py_driver.py SERVICE_URL TARGET_APP OWN_PORT SECONDS
  SERVICE_URL  e.g. http://127.0.0.1:8761/eureka/
  TARGET_APP   app to look up through client.applications (no HTTP call to it is made)
  OWN_PORT     port we register with; the instance id is py-harness:OWN_PORT
  SECONDS      length of the watch phase

stdout: one event per line, starting with a keyword (client logging goes to stderr):
  REGISTERED PY-HARNESS py-harness:<port>     client.start() returned (register + full fetch done)
  DISCOVERED <APP> <ID> <IP> <PORT> <STATUS>  each TARGET_APP instance in client.applications
  NOT_DISCOVERED <APP>                        TARGET_APP has no instance in client.applications
  SELF <STATUS>|ABSENT                        own instance as seen in client.applications
  STATUS_CHANGE OUT_OF_SERVICE                client.status_update("OUT_OF_SERVICE") returned
  STATUS_CHANGE OVERRIDE_DELETED              client.delete_status_override() returned
  SHUTDOWN                                    client.stop() returned (re-POST DOWN, then DELETE)
  ERROR <type> <exception>                    the client's on_error callback fired (also a failure)
The DISCOVERED/SELF block is printed once a second in every phase: watch (SECONDS), then
after each status call for HARNESS_PHASE_SECONDS (env var, default 3).
"""
import asyncio
import logging
import os
import sys

import py_eureka_client.logger as eureka_logger
from py_eureka_client.eureka_client import EurekaClient

APP = "PY-HARNESS"


def out(*parts):
    print(*parts, flush=True)


def on_error(error_type, exception):
    out("ERROR", error_type, repr(exception).replace("\n", " "))


def show(client, target_app, own_id):
    apps = client.applications
    app = apps.get_application(target_app)   # never None: an empty Application if unknown
    instances = app.instances
    if not instances:
        out("NOT_DISCOVERED", target_app.upper())
    for inst in instances:
        out("DISCOVERED", app.name, inst.instanceId, inst.ipAddr, inst.port.port, inst.status)
    me = apps.get_application(APP).get_instance(own_id)
    out("SELF", me.status if me is not None else "ABSENT")


async def watch(client, target_app, own_id, seconds):
    for _ in range(seconds):
        await asyncio.sleep(1)
        show(client, target_app, own_id)


async def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    service_url = sys.argv[1]
    target_app = sys.argv[2]
    own_port = int(sys.argv[3])
    seconds = int(sys.argv[4])
    own_id = f"py-harness:{own_port}"
    phase = int(os.environ.get("HARNESS_PHASE_SECONDS") or 3)

    # the library logs to stdout by default; keep stdout machine-readable
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s]-[%(threadName)s] %(levelname)s: %(message)s"))
    eureka_logger.set_handler(handler)

    client = EurekaClient(
        eureka_server=service_url,
        app_name="py-harness",
        instance_id=own_id,
        instance_host="127.0.0.1",
        instance_ip="127.0.0.1",
        instance_port=own_port,
        renewal_interval_in_secs=1,       # heartbeat AND registry refresh period
        duration_in_secs=3,
        metadata={"harness": "python"},
        on_error=on_error,
    )
    await client.start()                  # POST register, GET apps/ (full fetch), start the timer thread
    out("REGISTERED", APP, own_id)

    await watch(client, target_app, own_id, seconds)

    await client.status_update("OUT_OF_SERVICE")   # PUT .../status?value=OUT_OF_SERVICE&lastDirtyTimestamp=
    out("STATUS_CHANGE", "OUT_OF_SERVICE")
    await watch(client, target_app, own_id, phase)

    await client.delete_status_override()          # DELETE .../status?lastDirtyTimestamp= (no value)
    out("STATUS_CHANGE", "OVERRIDE_DELETED")
    await watch(client, target_app, own_id, phase)

    await client.stop()                   # POST register(status=DOWN) then DELETE
    out("SHUTDOWN")


if __name__ == "__main__":
    asyncio.run(main())

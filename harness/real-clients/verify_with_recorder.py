#!/usr/bin/env python3
"""Run every real-client harness against recorder.py and check the basic wire contract.

usage: verify_with_recorder.py [--port 28761] [--seconds 8] [--keep DIR] [CLIENT ...]
  CLIENT: java2 java1 py node node-delta (default: all)
Needs target/real-clients/READY (run scripts/prepare-real-clients first). Loopback only.

For each client: start the recorder, register TARGET with a JSON POST, start the harness,
DELETE the harness's instance behind its back after a few seconds, wait for the harness to
finish, then check in the capture and on the harness's stdout that
  * the register POST arrived and got 204, heartbeats arrived and got 200,
  * the behind-the-back delete made a heartbeat get 404, followed by a re-register POST (204),
  * the harness printed REGISTERED, DISCOVERED TARGET target-1 ..., and SHUTDOWN,
  * the harness's last request is the cancel DELETE (200).
The capture of each run is kept in --keep DIR (default: a temp dir, printed at the end).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
READY = os.path.join(ROOT, "target", "real-clients", "READY")

TARGET = {"instance": {
    "instanceId": "target-1", "hostName": "127.0.0.1", "app": "TARGET", "ipAddr": "127.0.0.1",
    "status": "UP", "port": {"$": 18090, "@enabled": "true"},
    "securePort": {"$": 443, "@enabled": "false"}, "vipAddress": "target", "secureVipAddress": "target",
    "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"}}}


def read_ready():
    env = {}
    with open(READY) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    return env


def http(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def clients(env, port, seconds):
    svc = f"http://127.0.0.1:{port}/eureka/"
    return {
        "java2": ("JAVA2-HARNESS", "java2-harness:18084", 5.0,
                  env["JAVA2_CMD"].split(" ") + [svc, "java2-harness", "18084", "TARGET", str(seconds)]),
        "java1": ("JAVA1-HARNESS", "java1-harness:18085", 5.0,
                  env["JAVA1_CMD"].split(" ") + [svc, "java1-harness", "18085", "TARGET", str(seconds)]),
        "py": ("PY-HARNESS", "py-harness:18081", 4.0,
               env["PY_CMD"].split(" ") + [svc, "TARGET", "18081", str(seconds)]),
        "node": ("NODE-HARNESS", "node-harness:18082", 4.0,
                 env["NODE_CMD"].split(" ") + ["127.0.0.1", str(port), "/eureka/apps/", "TARGET", "18082",
                                               str(seconds)]),
        "node-delta": ("NODE-HARNESS", "node-harness:18083", 4.0,
                       env["NODE_CMD"].split(" ") + ["127.0.0.1", str(port), "/eureka/apps/", "TARGET",
                                                     "18083", str(seconds), "delta"]),
    }


def run_one(name, spec, env, port, outdir):
    app, iid, delete_at, cmd = spec
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    cap = os.path.join(d, "capture.jsonl")
    rec = subprocess.Popen(env["RECORDER_CMD"].split(" ") + [str(port), cap])
    try:
        base = f"http://127.0.0.1:{port}/eureka/"
        for _ in range(100):
            try:
                http("GET", base + "apps")
                break
            except OSError:
                time.sleep(0.05)
        assert http("POST", base + "apps/TARGET", json.dumps(TARGET).encode()) == 204
        t0 = time.time()
        with open(os.path.join(d, "stdout"), "w") as out, open(os.path.join(d, "stderr"), "w") as err:
            h = subprocess.Popen(cmd, stdout=out, stderr=err)
            time.sleep(delete_at)
            del_code = http("DELETE", f"{base}apps/{app}/{iid}")
            rc = h.wait(timeout=120)
        wall = time.time() - t0
    finally:
        rec.terminate()
        rec.wait()
    return check(name, app, iid, d, rc, wall, del_code)


def check(name, app, iid, d, rc, wall, del_code):
    problems = []
    recs = [json.loads(line) for line in open(os.path.join(d, "capture.jsonl"))]
    lines = open(os.path.join(d, "stdout")).read().splitlines()
    inst_path = f"/eureka/apps/{app}/{iid}"
    mine = [r for r in recs if not r["headers"].get("User-Agent", "").startswith("Python-urllib")]

    def path(r):
        return unquote(urlsplit(r["path"]).path)

    regs = [r for r in mine if r["method"] == "POST" and path(r) == f"/eureka/apps/{app}"]
    beats = [r for r in mine if r["method"] == "PUT" and path(r) == inst_path]
    if rc != 0:
        problems.append(f"harness exit code {rc}")
    if del_code != 200:
        problems.append(f"behind-the-back DELETE got {del_code} (was the instance registered?)")
    if not regs or regs[0]["status"] != 204:
        problems.append("no register POST answered 204")
    if sum(1 for b in beats if b["status"] == 200) < 2:
        problems.append("fewer than 2 heartbeats answered 200")
    b404 = [b for b in beats if b["status"] == 404]
    if not b404:
        problems.append("no heartbeat got 404 after the behind-the-back delete")
    elif not any(r["t"] >= b404[0]["t"] and r["t"] - b404[0]["t"] < 2.5 and r["status"] == 204 for r in regs):
        problems.append("no re-register POST within 2.5 s of the first 404 heartbeat")
    last = mine[-1] if mine else None
    if not last or last["method"] != "DELETE" or path(last) != inst_path or last["status"] != 200:
        problems.append("last request of the harness is not the cancel DELETE answered 200")
    if not any(line.startswith(f"REGISTERED {app} {iid}") for line in lines):
        problems.append("no REGISTERED line")
    if not any(line.startswith("DISCOVERED TARGET target-1 127.0.0.1 18090 UP") for line in lines):
        problems.append("no DISCOVERED TARGET line")
    if not lines or lines[-1] != "SHUTDOWN":
        problems.append("last stdout line is not SHUTDOWN")
    print(f"{name:10s} {'ok' if not problems else 'FAIL'}  wall {wall:5.1f}s  requests {len(mine)}  "
          f"registers {len(regs)}  heartbeats {len(beats)} (404: {len(b404)})")
    for p in problems:
        print(f"           - {p}")
    return not problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=28761)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--keep")
    ap.add_argument("clients", nargs="*")
    a = ap.parse_args()
    if not os.path.exists(READY):
        sys.exit(f"{READY} missing: run scripts/prepare-real-clients first")
    env = read_ready()
    specs = clients(env, a.port, a.seconds)
    names = a.clients or list(specs)
    outdir = a.keep or tempfile.mkdtemp(prefix="real-clients-")
    ok = True
    for n in names:
        ok &= run_one(n, specs[n], env, a.port, outdir)
    print(f"captures in {outdir}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

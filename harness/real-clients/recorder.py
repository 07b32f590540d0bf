#!/usr/bin/env python3
"""Minimal Eureka stand-in that records every request it receives.

Usage: python3 recorder.py PORT LOGFILE
Serves the Eureka REST API under /eureka/ (Spring Cloud layout) and also under
/eureka/v2/ (Netflix WAR layout).  Every request is appended to LOGFILE as one
JSON object per line: {t, method, path, headers, body, status}.
(status = the HTTP code this stand-in answered; the line is written after the reply.)
Only listens on 127.0.0.1.
"""
import json
import sys
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs, unquote

LOCK = threading.Lock()
LOG_LOCK = threading.Lock()
REG = {}          # app -> {instance_id -> dict}
VERSION = [0]
RECENT = []       # (ts, action, app, instance dict)
LOGFILE = None


def now_ms():
    return int(time.time() * 1000)


def txt(node, tag, default=""):
    el = node.find(tag)
    return el.text if el is not None and el.text is not None else default


def parse_instance_xml(raw):
    root = ET.fromstring(raw)
    port = root.find("port")
    sport = root.find("securePort")
    md = root.find("metadata")
    dci = root.find("dataCenterInfo")
    return {
        "instanceId": txt(root, "instanceId"),
        "hostName": txt(root, "hostName"),
        "app": txt(root, "app").upper(),
        "ipAddr": txt(root, "ipAddr"),
        "status": txt(root, "status", "UP"),
        "overriddenstatus": txt(root, "overriddenstatus", "UNKNOWN") or "UNKNOWN",
        "port": int((port.text or "0") if port is not None else 0),
        "portEnabled": (port.get("enabled", "true") if port is not None else "false") == "true",
        "securePort": int((sport.text or "0") if sport is not None else 0),
        "securePortEnabled": (sport.get("enabled", "false") if sport is not None else "false") == "true",
        "vipAddress": txt(root, "vipAddress"),
        "secureVipAddress": txt(root, "secureVipAddress"),
        "homePageUrl": txt(root, "homePageUrl"),
        "statusPageUrl": txt(root, "statusPageUrl"),
        "healthCheckUrl": txt(root, "healthCheckUrl"),
        "dataCenterName": txt(dci, "name", "MyOwn") if dci is not None else "MyOwn",
        "metadata": {c.tag: (c.text or "") for c in md} if md is not None else {},
        "renewalIntervalInSecs": int(txt(root, "leaseInfo/renewalIntervalInSecs", "30") or 30),
        "durationInSecs": int(txt(root, "leaseInfo/durationInSecs", "90") or 90),
    }


def port_of(v, default_enabled):
    if isinstance(v, dict):
        num = v.get("$", 0)
        en = v.get("@enabled", default_enabled)
        return int(num), str(en).lower() == "true"
    if v is None:
        return 0, False
    return int(v), default_enabled


def parse_instance_json(raw):
    doc = json.loads(raw)
    i = doc.get("instance", doc)
    p, pe = port_of(i.get("port"), True)
    sp, spe = port_of(i.get("securePort"), False)
    md = {k: str(v) for k, v in (i.get("metadata") or {}).items() if k != "@class"}
    lease = i.get("leaseInfo") or {}
    dci = i.get("dataCenterInfo") or {}
    return {
        "instanceId": i.get("instanceId") or i.get("hostName", ""),
        "hostName": i.get("hostName", ""),
        "app": str(i.get("app", "")).upper(),
        "ipAddr": i.get("ipAddr", ""),
        "status": i.get("status", "UP"),
        "overriddenstatus": i.get("overriddenStatus") or i.get("overriddenstatus") or "UNKNOWN",
        "port": p, "portEnabled": pe, "securePort": sp, "securePortEnabled": spe,
        "vipAddress": i.get("vipAddress", ""),
        "secureVipAddress": i.get("secureVipAddress", ""),
        "homePageUrl": i.get("homePageUrl", ""),
        "statusPageUrl": i.get("statusPageUrl", ""),
        "healthCheckUrl": i.get("healthCheckUrl", ""),
        "dataCenterName": dci.get("name", "MyOwn"),
        "metadata": md,
        "renewalIntervalInSecs": int(lease.get("renewalIntervalInSecs", 30) or 30),
        "durationInSecs": int(lease.get("durationInSecs", 90) or 90),
    }


def hashcode(apps):
    counts = {}
    for insts in apps.values():
        for i in insts.values():
            counts[i["status"]] = counts.get(i["status"], 0) + 1
    return "".join(f"{k}_{v}_" for k, v in sorted(counts.items()))


def inst_json(i, action="ADDED"):
    return {
        "instanceId": i["instanceId"], "hostName": i["hostName"], "app": i["app"],
        "ipAddr": i["ipAddr"], "status": i["status"],
        "overriddenStatus": i["overriddenstatus"],
        "port": {"$": i["port"], "@enabled": str(i["portEnabled"]).lower()},
        "securePort": {"$": i["securePort"], "@enabled": str(i["securePortEnabled"]).lower()},
        "countryId": 1,
        "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",
                           "name": i["dataCenterName"]},
        "leaseInfo": {"renewalIntervalInSecs": i["renewalIntervalInSecs"],
                      "durationInSecs": i["durationInSecs"],
                      "registrationTimestamp": i["registered"],
                      "lastRenewalTimestamp": i["renewed"], "evictionTimestamp": 0,
                      "serviceUpTimestamp": i["registered"]},
        "metadata": i["metadata"] or {"@class": "java.util.Collections$EmptyMap"},
        "homePageUrl": i["homePageUrl"], "statusPageUrl": i["statusPageUrl"],
        "healthCheckUrl": i["healthCheckUrl"], "vipAddress": i["vipAddress"],
        "secureVipAddress": i["secureVipAddress"],
        "isCoordinatingDiscoveryServer": "false",
        "lastUpdatedTimestamp": str(i["updated"]),
        "lastDirtyTimestamp": str(i["dirty"]),
        "actionType": action,
    }


def inst_xml(parent, i, action="ADDED"):
    e = ET.SubElement(parent, "instance")
    for tag in ("instanceId", "hostName", "app", "ipAddr", "status"):
        ET.SubElement(e, tag).text = str(i[tag])
    ET.SubElement(e, "overriddenstatus").text = i["overriddenstatus"]
    ET.SubElement(e, "port", enabled=str(i["portEnabled"]).lower()).text = str(i["port"])
    ET.SubElement(e, "securePort", enabled=str(i["securePortEnabled"]).lower()).text = str(i["securePort"])
    ET.SubElement(e, "countryId").text = "1"
    d = ET.SubElement(e, "dataCenterInfo", {"class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"})
    ET.SubElement(d, "name").text = i["dataCenterName"]
    li = ET.SubElement(e, "leaseInfo")
    for k, v in (("renewalIntervalInSecs", i["renewalIntervalInSecs"]), ("durationInSecs", i["durationInSecs"]),
                 ("registrationTimestamp", i["registered"]), ("lastRenewalTimestamp", i["renewed"]),
                 ("evictionTimestamp", 0), ("serviceUpTimestamp", i["registered"])):
        ET.SubElement(li, k).text = str(v)
    if i["metadata"]:
        m = ET.SubElement(e, "metadata")
        for k, v in i["metadata"].items():
            ET.SubElement(m, k).text = v
    else:
        ET.SubElement(e, "metadata", {"class": "java.util.Collections$EmptyMap"})
    for tag in ("homePageUrl", "statusPageUrl", "healthCheckUrl", "vipAddress", "secureVipAddress"):
        ET.SubElement(e, tag).text = i[tag]
    ET.SubElement(e, "isCoordinatingDiscoveryServer").text = "false"
    ET.SubElement(e, "lastUpdatedTimestamp").text = str(i["updated"])
    ET.SubElement(e, "lastDirtyTimestamp").text = str(i["dirty"])
    ET.SubElement(e, "actionType").text = action


def render_apps(apps, want_json, actions=None):
    hc = hashcode(REG)  # delta carries the hash of the FULL registry
    if want_json:
        out = []
        for name, insts in sorted(apps.items()):
            out.append({"name": name, "instance": [inst_json(i, (actions or {}).get(k, "ADDED"))
                                                   for k, i in insts.items()]})
        return json.dumps({"applications": {"versions__delta": str(VERSION[0]),
                                            "apps__hashcode": hc, "application": out}})
    root = ET.Element("applications")
    ET.SubElement(root, "versions__delta").text = str(VERSION[0])
    ET.SubElement(root, "apps__hashcode").text = hc
    for name, insts in sorted(apps.items()):
        a = ET.SubElement(root, "application")
        ET.SubElement(a, "name").text = name
        for k, i in insts.items():
            inst_xml(a, i, (actions or {}).get(k, "ADDED"))
    return ET.tostring(root, encoding="unicode")


def touch(action, i):
    VERSION[0] += 1
    RECENT.append((time.time(), action, i["app"], dict(i)))
    cutoff = time.time() - 180
    while RECENT and RECENT[0][0] < cutoff:
        RECENT.pop(0)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body=b"", ctype=None):
        if isinstance(body, str):
            body = body.encode()
        rec = getattr(self, "_rec", None)
        if rec is not None:
            rec["status"] = code
            with LOG_LOCK:
                with open(LOGFILE, "a") as f:
                    f.write(json.dumps(rec) + "\n")
            self._rec = None
        self.send_response(code)
        if body:
            self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def read_chunked(self):
        out = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():   # trailers, then the blank line
                    pass
                return out
            out += self.rfile.read(size)
            self.rfile.readline()                      # CRLF after each chunk

    def handle_any(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = self.read_chunked()   # eureka-client 1.10.x (Jersey 1) registers chunked
        else:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
        rec = {"t": round(time.time(), 3), "method": self.command, "path": self.path,
               "headers": dict(self.headers.items()), "body": body.decode("utf-8", "replace")}
        self._rec = rec
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        path = u.path
        for pre in ("/eureka/v2/", "/eureka/"):
            if path.startswith(pre):
                path = path[len(pre):]
                break
        else:
            return self.reply(404)
        parts = [unquote(p) for p in path.split("/") if p != ""]
        accept = self.headers.get("Accept", "")
        want_json = "application/json" in accept
        ctype = "application/json" if want_json else "application/xml"
        m = self.command
        with LOCK:
            if parts[:1] == ["apps"]:
                if len(parts) == 1 and m == "GET":
                    return self.reply(200, render_apps(REG, want_json), ctype)
                if len(parts) == 2 and parts[1] == "delta" and m == "GET":
                    delta, acts = {}, {}
                    for _, action, app, inst in RECENT:
                        delta.setdefault(app, {})[inst["instanceId"]] = inst
                        acts[inst["instanceId"]] = action
                    return self.reply(200, render_apps(delta, want_json, acts), ctype)
                app = parts[1].upper() if len(parts) > 1 else ""
                if len(parts) == 2 and m == "POST":
                    ct = self.headers.get("Content-Type", "")
                    try:
                        i = parse_instance_json(body) if "json" in ct or body.strip().startswith(b"{") \
                            else parse_instance_xml(body)
                    except Exception as e:  # noqa
                        return self.reply(400, str(e), "text/plain")
                    t = now_ms()
                    old = REG.get(app, {}).get(i["instanceId"])
                    i.update(registered=old["registered"] if old else t, renewed=t, updated=t, dirty=t)
                    REG.setdefault(app, {})[i["instanceId"]] = i
                    touch("MODIFIED" if old else "ADDED", i)
                    return self.reply(204)
                if len(parts) == 2 and m == "GET":
                    insts = REG.get(app)
                    if not insts:
                        return self.reply(404)
                    if want_json:
                        return self.reply(200, json.dumps({"application": {"name": app, "instance": [inst_json(i) for i in insts.values()]}}), ctype)
                    root = ET.Element("application")
                    ET.SubElement(root, "name").text = app
                    for i in insts.values():
                        inst_xml(root, i)
                    return self.reply(200, ET.tostring(root, encoding="unicode"), ctype)
                if len(parts) >= 3:
                    iid = parts[2]
                    inst = REG.get(app, {}).get(iid)
                    if len(parts) == 3 and m == "PUT":
                        if not inst:
                            return self.reply(404)
                        inst["renewed"] = now_ms()
                        return self.reply(200)
                    if len(parts) == 3 and m == "DELETE":
                        if not inst:
                            return self.reply(404)
                        del REG[app][iid]
                        if not REG[app]:
                            del REG[app]
                        touch("DELETED", inst)
                        return self.reply(200)
                    if len(parts) == 3 and m == "GET":
                        if not inst:
                            return self.reply(404)
                        if want_json:
                            return self.reply(200, json.dumps({"instance": inst_json(inst)}), ctype)
                        root = ET.Element("x")
                        inst_xml(root, inst)
                        return self.reply(200, ET.tostring(root[0], encoding="unicode"), ctype)
                    if len(parts) == 4 and parts[3] == "status":
                        if not inst:
                            return self.reply(404)
                        if m == "PUT":
                            inst["status"] = inst["overriddenstatus"] = q.get("value", "UP")
                        elif m == "DELETE":
                            inst["overriddenstatus"] = "UNKNOWN"
                            inst["status"] = q.get("value", "UNKNOWN")
                        inst["updated"] = inst["dirty"] = now_ms()
                        touch("MODIFIED", inst)
                        return self.reply(200)
                    if len(parts) == 4 and parts[3] == "metadata" and m == "PUT":
                        if not inst:
                            return self.reply(404)
                        inst["metadata"].update(q)
                        touch("MODIFIED", inst)
                        return self.reply(200)
            if parts[:1] in (["vips"], ["svips"]) and len(parts) == 2 and m == "GET":
                key = "vipAddress" if parts[0] == "vips" else "secureVipAddress"
                sel = {}
                for app, insts in REG.items():
                    for k, i in insts.items():
                        if parts[1] in i[key].split(","):
                            sel.setdefault(app, {})[k] = i
                if not sel:
                    return self.reply(404)
                return self.reply(200, render_apps(sel, want_json), ctype)
        return self.reply(404)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


if __name__ == "__main__":
    port, LOGFILE = int(sys.argv[1]), sys.argv[2]
    open(LOGFILE, "w").close()
    ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()

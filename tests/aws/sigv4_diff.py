#!/usr/bin/python3
"""Differential test: plumb's SigV4 signer (build/tests/aws_tool sign) against botocore's
SigV4Auth over generated requests: random methods, paths with dot segments and doubled slashes,
unreserved queries, headers with odd whitespace and duplicate names, bodies and session tokens.
Exits 1 and prints the first mismatches. Uses Debian's botocore (/usr/bin/python3)."""
import argparse
import datetime
import json
import random
import subprocess
import sys
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"


def rword(r, alphabet=UNRESERVED, lo=1, hi=10):
    return "".join(r.choice(alphabet) for _ in range(r.randint(lo, hi)))


def odd_ws(r, s):
    pads = ["", " ", "  ", "\t", " \t ", "   "]
    words = s.split(" ")
    return r.choice(pads) + r.choice(pads).join(w for w in words if w) + r.choice(pads) \
        if len(words) > 1 else r.choice(pads) + s + r.choice(pads)


def gen_case(r, i):
    method = r.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "POST", "POST"])
    segs = []
    for _ in range(r.randint(0, 4)):
        segs.append(r.choice([rword(r), rword(r), ".", "..", "", "a b", "x~y"]))
    path = "/" + "/".join(segs)
    if r.random() < 0.3:
        path += "/"
    query = ""
    if r.random() < 0.4:
        parts = []
        for _ in range(r.randint(1, 4)):
            k = rword(r, hi=6)
            parts.append(k if r.random() < 0.2 else k + "=" + rword(r, lo=0, hi=6))
        query = "&".join(parts)
    headers = [["Host", r.choice(["api.sagemaker.us-east-1.amazonaws.com",
                                  "127.0.0.1:4566", "sts.eu-west-1.amazonaws.com"])]]
    if method in ("POST", "PUT", "PATCH"):
        headers.append(["Content-Type", r.choice(["application/x-amz-json-1.1",
                        "application/x-www-form-urlencoded; charset=utf-8"])])
    names = ["X-Amz-Target", "X-Custom", "My-Header", "x-lower", "X-UPPER", "Accept"]
    for _ in range(r.randint(0, 4)):
        words = " ".join(rword(r, hi=5) for _ in range(r.randint(1, 3)))
        headers.append([r.choice(names), odd_ws(r, words)])
    body = ""
    if method in ("POST", "PUT", "PATCH") and r.random() < 0.8:
        body = r.choice([
            json.dumps({"EndpointName": rword(r)}),
            "Action=GetCallerIdentity&Version=2011-06-15",
            rword(r, UNRESERVED + " {}\":,", 0, 200),
        ])
    token = ""
    if r.random() < 0.4:
        token = rword(r, UNRESERVED + "/+=", 20, 400)
    region = r.choice(["us-east-1", "eu-west-1", "ap-south-1"])
    service = r.choice(["sagemaker", "sts", "monitoring", "application-autoscaling", "sns"])
    secret = rword(r, UNRESERVED + "/+", 40, 40)
    t = datetime.datetime(2020, 1, 1) + datetime.timedelta(seconds=r.randint(0, 10**8))
    return {"id": i, "method": method, "path": path, "query": query, "headers": headers,
            "body": body, "akid": "AKID" + rword(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16, 16),
            "secret": secret, "token": token, "region": region, "service": service,
            "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "_dt": t}


def botocore_sign(c):
    url = "https://example.com" + c["path"] + ("?" + c["query"] if c["query"] else "")
    req = AWSRequest(method=c["method"], url=url, data=c["body"].encode())
    for k, v in c["headers"]:
        req.headers[k] = v  # HTTPHeaders (email.message) appends: duplicates are kept
    creds = Credentials(c["akid"], c["secret"], c["token"] or None)
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = c["_dt"]
        SigV4Auth(creds, c["service"], c["region"]).add_auth(req)
    return req.headers["Authorization"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=4)
    a = ap.parse_args()
    r = random.Random(a.seed)
    cases = [gen_case(r, i) for i in range(a.n)]
    lines = "".join(json.dumps({k: v for k, v in c.items() if k != "_dt"}) + "\n" for c in cases)
    out = subprocess.run([a.tool, "sign"], input=lines.encode(), capture_output=True, check=True)
    got = [json.loads(l) for l in out.stdout.decode().splitlines()]
    if len(got) != len(cases):
        print(f"sigv4_diff: tool answered {len(got)} of {len(cases)} cases", file=sys.stderr)
        return 1
    bad = 0
    for c, g in zip(cases, got):
        want = botocore_sign(c)
        if want != g.get("authorization"):
            bad += 1
            if bad <= 5:
                print(f"mismatch case {c['id']}: {json.dumps({k: v for k, v in c.items() if k not in ('_dt', 'secret')})}\n"
                      f"  botocore: {want}\n  plumb:    {g.get('authorization')}\n"
                      f"  plumb creq:\n{g.get('canonical')}", file=sys.stderr)
    print(f"sigv4_diff: {len(cases) - bad}/{len(cases)} signatures equal to botocore's")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

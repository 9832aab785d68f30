"""A client of the video generation API with a retry loop that survives a
bad day: 429 and 503 (waiting as Retry-After says), 500, 502 and 504, a
dropped connection, a slow answer, and the older status words and usage
fields some hosted docs show. Run it against stillmotion's test mode to
see it pass every preset and fault (docs/testing.md).

Usage: BASE_URL=http://127.0.0.1:8080 API_KEY=... IMAGE_URL=... [SCRIPT=...] python3 robust.py
"""
import os
import sys
import time
import uuid

import requests

BASE_URL = os.environ.get("BASE_URL", "https://api.aimlapi.com")
API_KEY = os.environ["API_KEY"]
IMAGE_URL = os.environ["IMAGE_URL"]
SCRIPT = os.environ.get("SCRIPT")  # a stillmotion test script, if any
POLL = float(os.environ.get("POLL_SECONDS", "10"))

IN_PROGRESS = {"queued", "generating", "waiting", "active"}
DONE = {"completed", "succeeded"}
RETRYABLE = {429, 500, 502, 503, 504}


def headers(extra=None):
    h = {"Authorization": f"Bearer {API_KEY}"}
    if SCRIPT:
        h["X-Stillmotion-Script"] = SCRIPT
    h.update(extra or {})
    return h


def call(method, url, attempts=8, **kwargs):
    """Sends a request, retrying what a retry can fix."""
    delay = 1.0
    for attempt in range(attempts):
        try:
            r = requests.request(method, url, timeout=30, **kwargs)
        except requests.ConnectionError as e:
            print(f"  connection failed ({e.__class__.__name__}); retrying in {delay:.0f} s")
        else:
            if r.status_code not in RETRYABLE:
                r.raise_for_status()
                return r.json()
            wait = float(r.headers.get("Retry-After", delay))
            print(f"  {r.status_code}: {r.json().get('message')}; retrying in {wait:.0f} s")
            delay = wait
        time.sleep(delay)
        delay = min(delay * 2, 30)
    raise RuntimeError(f"{method} {url}: gave up after {attempts} attempts")


def main():
    url = f"{BASE_URL}/v2/video/generations"
    body = {"model": "pixverse/v5/image-to-video", "prompt": "A slow zoom in on the launch pad",
            "image_url": IMAGE_URL, "resolution": "360p", "duration": 5}
    # One key for every attempt: a retried submit never makes two videos.
    gen = call("POST", url, json=body, headers=headers({"Idempotency-Key": str(uuid.uuid4())}))
    gen_id = gen["id"]
    print("Generation ID:", gen_id)
    while gen.get("status") in IN_PROGRESS:
        time.sleep(POLL)
        gen = call("GET", url, params={"generation_id": gen_id}, headers=headers())
        print("Status:", gen.get("status"), gen.get("progress", ""))
    usage = gen.get("meta", {}).get("usage", {})
    cost = usage.get("credits_used", usage.get("tokens_used"))
    if gen.get("status") in DONE:
        print(f"Done: {gen['video']['url']} ({cost} credits)")
        return 0
    print("Failed:", gen.get("error"))
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""A remote worker for stillmotion in plain Python, written from
docs/remote-workers.md: it leases jobs, renews its lease while it renders,
uploads the video in parts and completes the job, or reports the failure.

Its "engine" is ffmpeg: it makes a still video of the job's image, as long
as the request asks, with silence. Put your model where render() is.

    STILLMOTION_API=http://127.0.0.1:8080 STILLMOTION_WORKER_TOKEN=sm_... \\
        python3 worker.py [--once]

--once takes one job, renders it and exits (tests use it).
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urljoin

import requests

API = os.environ.get("STILLMOTION_API", "http://127.0.0.1:8080")
TOKEN = os.environ["STILLMOTION_WORKER_TOKEN"]
QUEUE = os.environ.get("STILLMOTION_QUEUE", "render_builtin")
PART_SIZE = 8 << 20

session = requests.Session()
session.headers["Authorization"] = "Bearer " + TOKEN


def call(method, path, **kw):
    r = session.request(method, urljoin(API, path), timeout=60, **kw)
    if r.status_code >= 400:
        raise RuntimeError("%s %s: %d %s" % (method, path, r.status_code, r.text))
    return r


class Heartbeat(threading.Thread):
    """Renews the lease every heartbeat_interval_ms with the progress; sets
    stop when the generation was cancelled or the lease is lost."""

    def __init__(self, lease):
        super().__init__(daemon=True)
        self.lease = lease
        self.progress = 0.0
        self.stop = threading.Event()
        self.done = threading.Event()

    def run(self):
        every = self.lease["heartbeat_interval_ms"] / 1000
        path = "/v2/worker/leases/%s/heartbeat" % self.lease["lease_id"]
        while not self.done.wait(every):
            r = session.post(urljoin(API, path), json={"progress": self.progress}, timeout=30)
            if r.status_code == 410 or (r.ok and r.json()["cancelled"]):
                self.stop.set()
                return


def render(lease, beat, out):
    """The engine: a still video of the input image, silent."""
    req = lease["request"]
    image = session.get(urljoin(API, lease["inputs"]["image_url"]), timeout=60)
    image.raise_for_status()
    src = out + ".img"
    with open(src, "wb") as f:
        f.write(image.content)
    height = {"360p": 360, "540p": 540, "720p": 720, "1080p": 1080}[req.get("resolution", "540p")]
    duration = req.get("duration", 5)
    beat.progress = 0.5
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", src, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
         "-t", str(duration), "-vf", "scale=-2:%d,format=yuv420p" % height, "-r", "24",
         "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-shortest", "-movflags", "+faststart", out],
        check=True)
    os.remove(src)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
         "-of", "json", out], check=True, capture_output=True)
    s = json.loads(probe.stdout)["streams"][0]
    return {"width": s["width"], "height": s["height"], "duration": duration, "fps": 24, "has_audio": True}


def upload(lease_id, path, output):
    whole, size, parts = hashlib.sha256(), os.path.getsize(path), 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(PART_SIZE)
            if not chunk and parts > 0:
                break
            parts += 1
            whole.update(chunk)
            call("PUT", "/v2/worker/leases/%s/output/%d" % (lease_id, parts), data=chunk,
                 headers={"X-Content-Sha256": hashlib.sha256(chunk).hexdigest()})
            if not chunk:
                break
    call("POST", "/v2/worker/leases/%s/complete" % lease_id,
         json={"parts": parts, "size": size, "sha256": whole.hexdigest(), "output": output})


def work(lease):
    lease_id = lease["lease_id"]
    beat = Heartbeat(lease)
    beat.start()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.mp4")
        try:
            output = render(lease, beat, out)
        except Exception as e:  # the render failed: say so, with an error name
            beat.done.set()
            r = call("POST", "/v2/worker/leases/%s/fail" % lease_id,
                     json={"error": {"name": "render_failed", "message": str(e)[:500]}})
            print("failed; retried:", r.json()["retried"], flush=True)
            return
        beat.done.set()
        if beat.stop.is_set():
            print("cancelled or lost; dropped", lease["generation_id"], flush=True)
            return
        upload(lease_id, out, output)
        print("completed", lease["generation_id"], flush=True)


def main():
    once = "--once" in sys.argv
    while True:
        try:
            r = call("POST", "/v2/worker/leases", json={"queues": [QUEUE], "wait_seconds": 20})
        except requests.ConnectionError:
            time.sleep(2)  # the API is away: back off and ask again
            continue
        if r.status_code == 204:
            continue
        work(r.json())
        if once:
            return


if __name__ == "__main__":
    main()
